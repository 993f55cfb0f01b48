using Fellows.Federation.Html;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Vocabulary;

public class RemoteHtmlTests
{
    [TestCase("gemini://capsule.example/", true)]
    [TestCase("xmpp:alice@example.org", true)]
    [TestCase("magnet:?xt=urn:btih:abc", true)]
    [TestCase("ipfs://bafy", true)]
    [TestCase("https://example.org/", true)]
    [TestCase("ftp://example.org/", false)]
    [TestCase("vbscript:msgbox", false)]
    public void Sanitize_link_scheme_kept_only_when_allowed(string href, bool kept)
    {
        var html = RemoteHtml.Sanitize($"<a href=\"{href}\">x</a>");

        Assert.That(html.Contains("href=", StringComparison.Ordinal), Is.EqualTo(kept), html);
    }

    [Test]
    public void Sanitize_link_gets_rel_and_target_replacing_senders()
    {
        var html = RemoteHtml.Sanitize("<a href=\"https://example.org\" rel=\"me\" target=\"_top\">x</a>");

        Assert.That(html, Is.EqualTo("<a href=\"https://example.org\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">x</a>"));
    }

    [Test]
    public void Sanitize_heading_becomes_bold_paragraph()
    {
        Assert.That(RemoteHtml.Sanitize("<h1>Title</h1><p>body</p>"), Is.EqualTo("<p><strong>Title</strong></p><p>body</p>"));
    }

    [Test]
    public void Sanitize_lists_keep_start_reversed_and_value()
    {
        var html = RemoteHtml.Sanitize("<ol start=\"3\" reversed=\"\" type=\"a\"><li value=\"5\">x</li></ol>");

        Assert.That(html, Is.EqualTo("<ol start=\"3\" reversed=\"\"><li value=\"5\">x</li></ol>"));
    }

    [Test]
    public void Sanitize_formatting_and_lang_survive()
    {
        const string html = "<p lang=\"fr\"><em>a</em> <strong>b</strong> <del>c</del> <s>d</s> <code>e</code> <u>f</u></p><blockquote><p>q</p></blockquote><pre><code>x</code></pre>";

        Assert.That(RemoteHtml.Sanitize(html), Is.EqualTo(html));
    }

    [Test]
    public void Sanitize_null_or_blank_is_empty()
    {
        Assert.That(RemoteHtml.Sanitize(null), Is.Empty);
        Assert.That(RemoteHtml.Sanitize("   "), Is.Empty);
    }

    [Test]
    public void Sanitize_in_parallel_gives_same_result()
    {
        const string html = "<p><a href=\"https://example.org\" class=\"mention u-url\">@a</a><script>x</script><h2>t</h2></p>";
        var expected = RemoteHtml.Sanitize(html);

        var results = new string[200];
        Parallel.For(0, results.Length, i => results[i] = RemoteHtml.Sanitize(html));

        Assert.That(results, Is.All.EqualTo(expected));
    }

    [Test]
    public void ToPlainText_paragraphs_breaks_and_lists()
    {
        const string html = "<p>Hello <a href=\"https://x.example\"><span class=\"invisible\">https://</span>x.example</a></p><p>line one<br>line two</p><ul><li>a</li><li>b</li></ul><script>bad()</script>";

        Assert.That(RemoteHtml.ToPlainText(html), Is.EqualTo("Hello https://x.example\n\nline one\nline two\n\n- a\n- b"));
    }

    [Test]
    public void ToPlainText_decodes_entities()
    {
        Assert.That(RemoteHtml.ToPlainText("<p>a &amp; b &lt;c&gt;</p>"), Is.EqualTo("a & b <c>"));
    }

    [Test]
    public void ToPlainText_plain_text_passes_through()
    {
        Assert.That(RemoteHtml.ToPlainText("Have what?"), Is.EqualTo("Have what?"));
        Assert.That(RemoteHtml.ToPlainText(null), Is.Empty);
    }
}
