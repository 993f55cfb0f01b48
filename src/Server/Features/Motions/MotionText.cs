using Fellows.Federation.Html;
using Markdig;

namespace Fellows.Server.Features.Motions;

/// <summary>Markdown to safe HTML for motion bodies, reasons and outcome statements.</summary>
public static class MotionText
{
    // Raw HTML in the Markdown is written out as text, and the result still goes through the same sanitizer as
    // remote HTML: two locks, because the rendered body is federated and shown by other servers' clients.
    static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .DisableHtml()
        .UseAutoLinks()
        .UseEmphasisExtras()
        .UsePipeTables()
        .UseListExtras()
        .Build();

    public static string ToHtml(string markdown) =>
        markdown.Length == 0 ? "" : RemoteHtml.Sanitize(Markdown.ToHtml(markdown, Pipeline)).Trim();
}
