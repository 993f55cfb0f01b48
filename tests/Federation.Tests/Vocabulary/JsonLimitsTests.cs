using System.Text;
using Fellows.Federation.Json;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Vocabulary;

public class JsonLimitsTests
{
    [Test]
    public void Parse_small_object_succeeds()
    {
        var result = JsonLimits.Parse("{\"type\":\"Note\"}"u8.ToArray());
        using var document = result.Document;

        Assert.That(result.IsSuccess, Is.True);
        Assert.That(result.Document!.RootElement.GetString("type"), Is.EqualTo("Note"));
    }

    [Test]
    public void Parse_body_over_one_mebibyte_is_refused_as_too_large()
    {
        var body = Encoding.UTF8.GetBytes("{\"content\":\"" + new string('a', JsonLimits.MaxBytes) + "\"}");

        var result = JsonLimits.Parse(body);

        Assert.That(result.IsSuccess, Is.False);
        Assert.That(result.Failure, Is.EqualTo(JsonReadFailure.TooLarge));
        Assert.That(result.Error, Does.StartWith("body too large"));
    }

    [Test]
    public void Parse_nesting_deeper_than_limit_is_refused_as_too_deep()
    {
        var depth = JsonLimits.MaxDepth + 10;
        var body = Encoding.UTF8.GetBytes("{\"a\":" + string.Concat(Enumerable.Repeat("[", depth)) + string.Concat(Enumerable.Repeat("]", depth)) + "}");

        var result = JsonLimits.Parse(body);

        Assert.That(result.Failure, Is.EqualTo(JsonReadFailure.TooDeep));
        Assert.That(result.Error, Does.StartWith("nesting too deep"));
    }

    [Test]
    public void Parse_nesting_within_limit_succeeds()
    {
        var depth = 30;
        var body = Encoding.UTF8.GetBytes("{\"a\":" + string.Concat(Enumerable.Repeat("[", depth)) + string.Concat(Enumerable.Repeat("]", depth)) + "}");

        var result = JsonLimits.Parse(body);
        using var document = result.Document;

        Assert.That(result.IsSuccess, Is.True);
    }

    [TestCase("{\"type\": \"Note\"")]
    [TestCase("{type: Note}")]
    [TestCase("")]
    [TestCase("\u00ff\u00fe")]
    public void Parse_malformed_json_reports_position(string text)
    {
        var result = JsonLimits.Parse(Encoding.UTF8.GetBytes(text));

        Assert.That(result.Failure, Is.EqualTo(JsonReadFailure.Malformed));
        Assert.That(result.Error, Does.StartWith("malformed JSON at line"));
    }

    [TestCase("[]")]
    [TestCase("\"https://example.org\"")]
    [TestCase("null")]
    public void Parse_non_object_root_is_refused(string text)
    {
        var result = JsonLimits.Parse(Encoding.UTF8.GetBytes(text));

        Assert.That(result.Failure, Is.EqualTo(JsonReadFailure.NotAnObject));
    }

    [Test]
    public async Task ParseAsync_stream_over_limit_is_refused_without_reading_it_all()
    {
        await using var stream = new MemoryStream(new byte[JsonLimits.MaxBytes * 4]);

        var result = await JsonLimits.ParseAsync(stream, CancellationToken.None);

        Assert.That(result.Failure, Is.EqualTo(JsonReadFailure.TooLarge));
        Assert.That(stream.Position, Is.LessThan(JsonLimits.MaxBytes * 2));
    }

    [Test]
    public async Task ParseAsync_small_stream_succeeds()
    {
        await using var stream = new MemoryStream("{\"id\":\"https://a.example/1\"}"u8.ToArray());

        var result = await JsonLimits.ParseAsync(stream, CancellationToken.None);
        using var document = result.Document;

        Assert.That(result.IsSuccess, Is.True);
    }

    [Test]
    public void Parse_every_fixture_succeeds()
    {
        foreach (var file in Fixture.All())
        {
            var result = JsonLimits.Parse(File.ReadAllBytes(file));
            using var document = result.Document;
            Assert.That(result.IsSuccess, Is.True, $"{file}: {result.Error}");
        }
    }
}
