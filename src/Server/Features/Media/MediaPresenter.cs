using System.Globalization;
using Fellows.Server.Features.Mastodon;

namespace Fellows.Server.Features.Media;

public sealed record ApiMediaSize(int Width, int Height, string Size, double Aspect);

public sealed record ApiMediaFocus(float X, float Y);

public sealed record ApiMediaMeta
{
    public ApiMediaSize? Original { get; init; }
    public ApiMediaSize? Small { get; init; }
    public required ApiMediaFocus Focus { get; init; }
}

/// <summary>Mastodon's MediaAttachment entity.</summary>
public sealed record ApiMediaAttachment
{
    public required string Id { get; init; }
    public required string Type { get; init; }
    public string? Url { get; init; }
    public string? PreviewUrl { get; init; }
    public string? RemoteUrl { get; init; }
    public string? PreviewRemoteUrl { get; init; }
    public string? TextUrl { get; init; }
    public required ApiMediaMeta Meta { get; init; }
    public string? Description { get; init; }
    public string? Blurhash { get; init; }
}

/// <summary>Media rows as API entities: local files by their URL here, remote ones by their own URL.</summary>
public sealed class MediaPresenter(MediaStore store)
{
    public ApiMediaAttachment Present(MediaRow m)
    {
        var local = m.RemoteUrl is null;
        var url = local ? (m.FilePath is { } f ? store.Url(f) : null) : m.RemoteUrl;
        var preview = local ? (m.PreviewPath is { } p ? store.Url(p) : null) : m.RemoteUrl;
        return new ApiMediaAttachment
        {
            Id = ApiResults.Id(m.Id),
            Type = m.Type,
            Url = url,
            PreviewUrl = preview,
            RemoteUrl = local ? null : m.RemoteUrl,
            Meta = new ApiMediaMeta
            {
                Original = Size(m.Width, m.Height),
                Small = Size(m.PreviewWidth, m.PreviewHeight),
                Focus = new ApiMediaFocus(m.FocusX, m.FocusY),
            },
            Description = m.Description.Length > 0 ? m.Description : null,
            Blurhash = m.Blurhash,
        };
    }

    static ApiMediaSize? Size(int? width, int? height) =>
        width is { } w && height is { } h && h > 0
            ? new ApiMediaSize(w, h, string.Create(CultureInfo.InvariantCulture, $"{w}x{h}"), Math.Round((double)w / h, 4))
            : null;
}
