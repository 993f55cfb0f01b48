using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Fellows.Server.Features.Statuses;

/// <summary>A mention found in a member's text: <c>@user</c> (local) or <c>@user@domain</c>.</summary>
public sealed record MentionToken(string Username, string? Domain)
{
    public string Acct => Domain is null ? Username : $"{Username}@{Domain}";
}

/// <summary>What the formatter found in plain text, and how to link each mention once it is resolved.</summary>
public sealed record ParsedText(IReadOnlyList<MentionToken> Mentions, IReadOnlyList<string> Hashtags);

/// <summary>
/// Turns what a member typed (plain text, as Mastodon clients send it) into the HTML that federates:
/// paragraphs, line breaks, links, mentions as h-card links and hashtags, everything else escaped.
/// </summary>
public static partial class StatusFormatter
{
    // One pass over the text: URLs, then @user@domain / @user, then #tags. Order matters: a URL may contain @ or #.
    [GeneratedRegex(@"(?<url>https?://[^\s<>""]+[^\s<>""\.,;:!?\)\]'])|(?<=^|[^\w/@])@(?<user>[a-zA-Z0-9_]+(?:[a-zA-Z0-9_.-]+[a-zA-Z0-9_])?)(?:@(?<domain>[a-zA-Z0-9.-]+(?::[0-9]{1,5})?))?|(?<=^|[^\w/&#])#(?<tag>[\p{L}\p{N}_]*[\p{L}_][\p{L}\p{N}_]*)",
        RegexOptions.CultureInvariant)]
    private static partial Regex Tokens();

    public static ParsedText Parse(string text)
    {
        var mentions = new List<MentionToken>();
        var tags = new List<string>();
        foreach (Match m in Tokens().Matches(text))
        {
            if (m.Groups["user"].Success)
            {
                var token = new MentionToken(m.Groups["user"].Value, m.Groups["domain"].Success ? m.Groups["domain"].Value.ToLowerInvariant() : null);
                if (!mentions.Any(x => string.Equals(x.Acct, token.Acct, StringComparison.OrdinalIgnoreCase))) mentions.Add(token);
            }
            else if (m.Groups["tag"].Success)
            {
                var tag = m.Groups["tag"].Value;
                if (!tags.Contains(tag, StringComparer.OrdinalIgnoreCase)) tags.Add(tag);
            }
        }
        return new ParsedText(mentions, tags);
    }

    /// <summary>
    /// Renders <paramref name="text"/> as HTML. <paramref name="mentionUrl"/> gives the profile URL of a resolved
    /// mention (null leaves it as text); <paramref name="tagUrl"/> the URL of a hashtag.
    /// </summary>
    public static string ToHtml(string text, Func<MentionToken, string?> mentionUrl, Func<string, string> tagUrl)
    {
        var normalized = text.Replace("\r\n", "\n", StringComparison.Ordinal).Trim();
        var paragraphs = ParagraphBreak().Split(normalized);
        var html = new StringBuilder();
        foreach (var paragraph in paragraphs)
        {
            if (paragraph.Length == 0) continue;
            html.Append("<p>");
            var last = 0;
            foreach (Match m in Tokens().Matches(paragraph))
            {
                html.Append(Escape(paragraph[last..m.Index]));
                last = m.Index + m.Length;
                if (m.Groups["url"].Success)
                {
                    var url = m.Groups["url"].Value;
                    html.Append("<a href=\"").Append(WebUtility.HtmlEncode(url))
                        .Append("\" target=\"_blank\" rel=\"nofollow noopener noreferrer\">")
                        .Append(Escape(url)).Append("</a>");
                }
                else if (m.Groups["user"].Success)
                {
                    var token = new MentionToken(m.Groups["user"].Value, m.Groups["domain"].Success ? m.Groups["domain"].Value.ToLowerInvariant() : null);
                    var href = mentionUrl(token);
                    if (href is null)
                    {
                        html.Append(Escape(m.Value));
                        continue;
                    }
                    html.Append("<span class=\"h-card\" translate=\"no\"><a href=\"").Append(WebUtility.HtmlEncode(href))
                        .Append("\" class=\"u-url mention\">@<span>").Append(Escape(token.Username)).Append("</span></a></span>");
                }
                else
                {
                    var tag = m.Groups["tag"].Value;
                    html.Append("<a href=\"").Append(WebUtility.HtmlEncode(tagUrl(tag)))
                        .Append("\" class=\"mention hashtag\" rel=\"tag\">#<span>").Append(Escape(tag)).Append("</span></a>");
                }
            }
            html.Append(Escape(paragraph[last..]));
            html.Append("</p>");
        }
        return html.ToString();
    }

    static string Escape(string s) => WebUtility.HtmlEncode(s).Replace("\n", "<br />", StringComparison.Ordinal);

    [GeneratedRegex(@"\n{2,}")]
    private static partial Regex ParagraphBreak();
}
