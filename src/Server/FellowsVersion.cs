namespace Fellows.Server;

/// <summary>The software's own identity, as reported to other servers and clients.</summary>
public static class FellowsVersion
{
    public const string Current = "0.1.0";
    public const string Repository = "https://codeberg.org/fellows/fellows";
    public const string Homepage = "https://codeberg.org/fellows/fellows";
}
