using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Fellows.Federation.Json;
using Fellows.Federation.Vocabulary;

namespace Fellows.Benchmarks.Micro;

/// <summary>
/// Reading an incoming activity as the inbox and its worker do (size and depth limits, the activity, its embedded
/// object with tags, mentions and addressing), against <see cref="JsonDocument.Parse(ReadOnlyMemory{byte}, JsonDocumentOptions)"/>
/// of the same bytes: the ratio is the cost of the tolerant ActivityStreams readers on top of plain JSON parsing.
/// </summary>
[MemoryDiagnoser]
public class ParsingBenchmarks
{
    byte[] _bytes = null!;

    /// <summary>Real payloads from three server kinds, from tests/Federation.Tests/Fixtures (sources noted there).</summary>
    [Params("mastodon/create_note.json", "misskey/note.json", "lemmy/announce_create_page.json")]
    public string Payload { get; set; } = "";

    public static string Fixture(string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    [GlobalSetup]
    public void Setup()
    {
        _bytes = Encoding.UTF8.GetBytes(Fixture(Payload));
        if (ReadActivity() == 0)
            throw new InvalidOperationException($"{Payload} does not read as an activity or object.");
    }

    [Benchmark(Baseline = true)]
    public int JsonDocumentParse()
    {
        using var document = JsonDocument.Parse(_bytes);
        return document.RootElement.Touch();
    }

    /// <summary>JsonLimits.Parse, RemoteActivity.TryRead, and RemoteObject.TryRead of the object it carries.</summary>
    [Benchmark]
    public int ReadActivity()
    {
        var parsed = JsonLimits.Parse(_bytes);
        using var document = parsed.Document!;
        var root = document.RootElement;
        if (RemoteActivity.TryRead(root, out var activity, out _))
        {
            // Announce(Create(Page)) from Lemmy carries its object one level further down.
            var embedded = activity.InnerActivity?.EmbeddedObject ?? activity.EmbeddedObject;
            var objectTags = embedded is { } o && RemoteObject.TryRead(o, out var note, out _) ? 1 + note.Mentions.Count + note.Hashtags.Count : 0;
            return 1 + objectTags + activity.To.Count + activity.Cc.Count;
        }
        return RemoteObject.TryRead(root, out var bare, out _) ? 1 + bare.Mentions.Count : 0;
    }
}

static class JsonElementExtensions
{
    /// <summary>Touches the root so the parse cannot be optimised away, without reading more than the reader does.</summary>
    public static int Touch(this JsonElement element) =>
        element.ValueKind == JsonValueKind.Array ? element.GetArrayLength() : (int)element.ValueKind;
}
