namespace Fellows.Server.Features.Statuses;

/// <summary>Who may see a status; stored as a smallint in this order.</summary>
public enum Visibility : short
{
    Public = 0,
    Unlisted = 1,
    Private = 2,
    Direct = 3,
}

public static class VisibilityNames
{
    public static string ToApi(this Visibility v) => v switch
    {
        Visibility.Public => "public",
        Visibility.Unlisted => "unlisted",
        Visibility.Private => "private",
        _ => "direct",
    };

    public static Visibility? Parse(string? value) => value?.ToLowerInvariant() switch
    {
        null or "" => null,
        "public" => Visibility.Public,
        "unlisted" => Visibility.Unlisted,
        "private" => Visibility.Private,
        "direct" => Visibility.Direct,
        _ => null,
    };
}
