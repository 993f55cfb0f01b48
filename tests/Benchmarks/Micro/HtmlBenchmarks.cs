using System.Text;
using System.Text.Json;
using AngleSharp.Html.Parser;
using BenchmarkDotNet.Attributes;
using Fellows.Federation.Html;

namespace Fellows.Benchmarks.Micro;

/// <summary>
/// Sanitising remote HTML (HtmlSanitizer over AngleSharp, Mastodon's policy) against AngleSharp parsing the same HTML
/// alone: any DOM-based sanitiser pays for the parse, so the ratio is what the policy walk and serialisation add.
/// </summary>
[MemoryDiagnoser]
public class HtmlBenchmarks
{
    string _html = "";

    /// <summary>
    /// <c>post</c>: the content of a real Mastodon reply (mention, paragraph). <c>hostile</c>: about 5 KB of the kind
    /// of markup a sanitiser exists for (scripts, handlers, styles, iframes, odd link schemes, deep nesting).
    /// </summary>
    [Params("post", "hostile")]
    public string Input { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        using var create = JsonDocument.Parse(ParsingBenchmarks.Fixture("mastodon/create_note.json"));
        _html = Input == "post"
            ? create.RootElement.GetProperty("object").GetProperty("content").GetString()!
            : Hostile();
    }

    static string Hostile()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < 12; i++)
        {
            sb.Append("<p class=\"evil\" style=\"position:fixed\" onclick=\"steal()\">Paragraph ").Append(i)
              .Append(" with <a href=\"javascript:alert(1)\">a bad link</a>, <a href=\"https://example.org/").Append(i)
              .Append("\" class=\"u-url mention\" target=\"_top\">a good one</a>, <script>alert(").Append(i)
              .Append(")</script><b><i><u><span class=\"h-card\">nested <em>text</em></span></u></i></b>")
              .Append("<img src=\"x\" onerror=\"x()\"><iframe src=\"https://tracker.example\"></iframe>")
              .Append("<h1>heading</h1><ul><li>one</li><li>two</li></ul><br></p>");
        }
        return sb.ToString();
    }

    [Benchmark(Baseline = true)]
    public int AngleSharpParse()
    {
        var parser = new HtmlParser();
        using var document = parser.ParseDocument(_html);
        return document.Body!.ChildElementCount;
    }

    [Benchmark]
    public int Sanitize() => RemoteHtml.Sanitize(_html).Length;

    [Benchmark]
    public int ToPlainText() => RemoteHtml.ToPlainText(_html).Length;
}
