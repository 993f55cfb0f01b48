using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using Ganss.Xss;

namespace Fellows.Federation.Html;

/// <summary>
/// Cleans HTML that arrives from other servers (post content, summaries, profile bios and fields) before it is stored
/// or shown. The policy follows Mastodon's for remote content, so posts look the same here as there: basic text
/// formatting, lists, quotes and links stay; scripts, styles, event handlers, frames, images, forms and unknown
/// link schemes go. Other tags are unwrapped (their text kept).
/// </summary>
public static class RemoteHtml
{
    /// <summary>Link schemes kept in <c>href</c>: the web, plus the decentralised ones Mastodon allows.</summary>
    public static readonly IReadOnlyList<string> AllowedSchemes =
        ["http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini"];

    /// <summary>
    /// Classes kept: microformats that mark mentions and hashtags, and Mastodon's link-shortening classes
    /// (<c>invisible</c> hides "https://", <c>ellipsis</c> marks a cut). Anything else could pick up our own styles.
    /// </summary>
    public static readonly IReadOnlyList<string> AllowedClasses =
    [
        "h-card", "h-entry", "p-name", "p-author", "e-content", "dt-published", "u-url", "u-uid", "u-photo",
        "mention", "hashtag", "ellipsis", "invisible", "quote-inline",
    ];

    /// <summary>What every remote link gets: no SEO credit, no window.opener, no referrer, a new tab.</summary>
    public const string LinkRel = "nofollow noopener noreferrer";

    // Elements whose content is never meant to be read as text; when they are removed, their content goes too.
    private static readonly HashSet<string> DropWithContent = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "template", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet",
        "svg", "math", "textarea", "select", "option", "title", "head", "canvas", "audio", "video", "picture", "form", "button",
    };

    private static readonly string[] Headings = ["h1", "h2", "h3", "h4", "h5", "h6"];

    // HtmlSanitizer's README ("Thread safety", restated in mganss/HtmlSanitizer#227) makes Sanitize safe to call from
    // many threads on one instance as long as nobody changes its settings meanwhile. This instance is configured once
    // here, its sets are never exposed, and the event handlers below keep no state, so it serves the whole process.
    private static readonly HtmlSanitizer Sanitizer = CreateSanitizer();

    /// <summary>Returns <paramref name="html"/> reduced to the allowed tags, attributes, classes and link schemes.</summary>
    public static string Sanitize(string? html)
    {
        if (string.IsNullOrWhiteSpace(html))
        {
            return string.Empty;
        }

        return Sanitizer.Sanitize(html);
    }

    /// <summary>
    /// Plain text of <paramref name="html"/> for previews, notifications and search: paragraphs and line breaks become
    /// newlines, scripts and styles are dropped, entities decoded, runs of blank lines collapsed.
    /// </summary>
    public static string ToPlainText(string? html)
    {
        if (string.IsNullOrWhiteSpace(html))
        {
            return string.Empty;
        }

        // A parser per call: AngleSharp does not promise that a shared parser is thread-safe, and it is cheap to make.
        var parser = new HtmlParser();
        using var document = parser.ParseDocument("<!DOCTYPE html><body></body>");
        var body = document.Body!;
        var nodes = parser.ParseFragment(html, body);
        var text = new StringBuilder(html.Length);
        foreach (var node in nodes)
        {
            AppendText(node, text);
        }

        return CollapseBlankLines(text.ToString());
    }

    private static HtmlSanitizer CreateSanitizer()
    {
        var sanitizer = new HtmlSanitizer(new HtmlSanitizerOptions
        {
            AllowedTags = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
            {
                "p", "br", "span", "a", "del", "s", "pre", "code", "em", "strong", "b", "i", "u",
                "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "ruby", "rt", "rp",
            },
            AllowedAttributes = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
            {
                "href", "rel", "class", "lang", "start", "reversed", "value", "translate",
            },
            AllowedClasses = new HashSet<string>(AllowedClasses, StringComparer.Ordinal),
            AllowedCssProperties = new HashSet<string>(StringComparer.OrdinalIgnoreCase),
            AllowedAtRules = new HashSet<AngleSharp.Css.Dom.CssRuleType>(),
            AllowedSchemes = new HashSet<string>(AllowedSchemes, StringComparer.OrdinalIgnoreCase),
            UriAttributes = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "href" },
        })
        {
            KeepChildNodes = true,
        };

        sanitizer.RemovingTag += static (_, e) =>
        {
            if (DropWithContent.Contains(e.Tag.LocalName))
            {
                // KeepChildNodes would otherwise surface a script's source as visible text.
                while (e.Tag.FirstChild is { } child)
                {
                    child.RemoveFromParent();
                }
            }
        };

        sanitizer.FilterUrl += static (_, e) =>
        {
            // A relative href in a remote post would point at our own server; Mastodon drops those too.
            if (e.SanitizedUrl is { } url && !HasScheme(url))
            {
                e.SanitizedUrl = null;
            }
        };

        sanitizer.PostProcessNode += static (_, e) =>
        {
            if (e.Node is IHtmlAnchorElement anchor)
            {
                if (anchor.HasAttribute("href"))
                {
                    anchor.SetAttribute("rel", LinkRel);
                    anchor.SetAttribute("target", "_blank");
                }
                else
                {
                    anchor.RemoveAttribute("rel");
                }
            }
        };

        sanitizer.PostProcessDom += static (_, e) =>
        {
            // Headings would dominate a timeline; Mastodon shows them as a bold paragraph, and so do we.
            foreach (var heading in e.Document.QuerySelectorAll(string.Join(',', Headings)).ToArray())
            {
                var paragraph = e.Document.CreateElement("p");
                var strong = e.Document.CreateElement("strong");
                while (heading.FirstChild is { } child)
                {
                    strong.AppendChild(child);
                }

                paragraph.AppendChild(strong);
                heading.Replace(paragraph);
            }
        };

        return sanitizer;
    }

    // Uri.TryCreate is no help here: on Unix it reads "/path" as an absolute file URI.
    private static bool HasScheme(string url)
    {
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && url.IndexOfAny(['/', '?', '#']) is var end && (end < 0 || colon < end);
    }

    private static void AppendText(INode node, StringBuilder text)
    {
        switch (node)
        {
            case IText textNode:
                text.Append(textNode.Data);
                return;
            case IElement element:
                var name = element.LocalName;
                if (DropWithContent.Contains(name))
                {
                    return;
                }

                if (name == "br")
                {
                    text.Append('\n');
                    return;
                }

                // List items sit on consecutive lines; other blocks are separated by a blank line.
                var item = name == "li";
                var block = !item && IsBlock(name);
                if (block)
                {
                    EndParagraph(text);
                }
                else if (item)
                {
                    EndLine(text);
                    text.Append("- ");
                }

                foreach (var child in element.ChildNodes)
                {
                    AppendText(child, text);
                }

                if (block)
                {
                    EndParagraph(text);
                }
                else if (item)
                {
                    EndLine(text);
                }

                return;
            default:
                return;
        }
    }

    private static bool IsBlock(string name) => name is "p" or "div" or "blockquote" or "pre" or "ul" or "ol"
        or "h1" or "h2" or "h3" or "h4" or "h5" or "h6" or "section" or "article" or "header" or "footer" or "table" or "tr";

    private static void EndLine(StringBuilder text)
    {
        if (text.Length > 0 && text[^1] != '\n')
        {
            text.Append('\n');
        }
    }

    private static void EndParagraph(StringBuilder text)
    {
        if (text.Length > 0 && text[^1] != '\n')
        {
            text.Append('\n');
        }

        if (text.Length > 1 && text[^2] != '\n')
        {
            text.Append('\n');
        }
    }

    private static string CollapseBlankLines(string text)
    {
        var lines = text.Split('\n');
        var result = new StringBuilder(text.Length);
        var blank = 0;
        foreach (var raw in lines)
        {
            var line = raw.TrimEnd();
            if (line.Length == 0)
            {
                blank++;
                continue;
            }

            if (result.Length > 0)
            {
                result.Append(blank > 0 ? "\n\n" : "\n");
            }

            result.Append(line);
            blank = 0;
        }

        return result.ToString();
    }
}
