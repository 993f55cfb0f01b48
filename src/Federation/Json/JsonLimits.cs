using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Fellows.Federation.Json;

/// <summary>Why a remote JSON body was refused.</summary>
public enum JsonReadFailure
{
    /// <summary>No failure.</summary>
    None,

    /// <summary>The body was larger than <see cref="JsonLimits.MaxBytes"/>.</summary>
    TooLarge,

    /// <summary>Arrays and objects were nested deeper than <see cref="JsonLimits.MaxDepth"/>.</summary>
    TooDeep,

    /// <summary>The body was not well-formed JSON.</summary>
    Malformed,

    /// <summary>The top-level value was not a JSON object.</summary>
    NotAnObject,
}

/// <summary>
/// The outcome of <see cref="JsonLimits.Parse(ReadOnlyMemory{byte})"/>: a document, or a reason it was refused.
/// The caller owns <see cref="Document"/> and must dispose it.
/// </summary>
public readonly record struct JsonReadResult(JsonDocument? Document, JsonReadFailure Failure, string? Error)
{
    /// <summary>True when <see cref="Document"/> holds a parsed object.</summary>
    [MemberNotNullWhen(true, nameof(Document))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Document is not null;
}

/// <summary>
/// Parses untrusted JSON with caps on size and nesting. Every body from another server goes through here,
/// so a peer cannot make us buffer megabytes or recurse without end, and a bad body becomes a value, not an exception.
/// </summary>
public static class JsonLimits
{
    /// <summary>Largest body accepted: 1 MiB. Mastodon caps inbox bodies near this; real activities are a few KiB.</summary>
    public const int MaxBytes = 1024 * 1024;

    /// <summary>
    /// Deepest nesting accepted. A Create with an embedded Note, tags with icons and a poll reaches about 8;
    /// 64 leaves room for odd servers while keeping recursion in our readers bounded.
    /// </summary>
    public const int MaxDepth = 64;

    private static readonly JsonDocumentOptions Options = new()
    {
        MaxDepth = MaxDepth,
        // Some servers (PeerTube among them) have shipped trailing commas and comments; accepting them costs nothing.
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Parses <paramref name="utf8"/> into a document whose root must be an object.</summary>
    /// <remarks>The document reads from <paramref name="utf8"/> directly; do not reuse or change that memory while it lives.</remarks>
    public static JsonReadResult Parse(ReadOnlyMemory<byte> utf8)
    {
        if (utf8.Length > MaxBytes)
        {
            return Fail(JsonReadFailure.TooLarge, $"body too large: {utf8.Length} bytes, limit {MaxBytes}");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, Options);
        }
        catch (JsonException ex)
        {
            // The reader reports depth overflow as an ordinary JsonException; its message is the only tell, and a
            // bare "depth" also appears in the message for an unclosed object. A test pins this wording.
            if (ex.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase))
            {
                return Fail(JsonReadFailure.TooDeep, $"nesting too deep: more than {MaxDepth} levels (line {ex.LineNumber + 1})");
            }

            return Fail(JsonReadFailure.Malformed, $"malformed JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind;
            document.Dispose();
            return Fail(JsonReadFailure.NotAnObject, $"expected a JSON object, got {kind}");
        }

        return new JsonReadResult(document, JsonReadFailure.None, null);
    }

    /// <summary>Reads at most <see cref="MaxBytes"/> + 1 bytes from <paramref name="body"/> and parses them.</summary>
    /// <remarks>
    /// Reading one byte past the limit tells "exactly at the limit" from "over it" without buffering the rest.
    /// The buffer grows with the body, so a 2 KiB activity does not cost a 1 MiB allocation.
    /// </remarks>
    public static async Task<JsonReadResult> ParseAsync(Stream body, CancellationToken ct)
    {
        using var copy = new MemoryStream();
        var chunk = new byte[16 * 1024];
        while (true)
        {
            var read = await body.ReadAsync(chunk, ct);
            if (read == 0)
            {
                break;
            }

            copy.Write(chunk, 0, read);
            if (copy.Length > MaxBytes)
            {
                return Fail(JsonReadFailure.TooLarge, $"body too large: more than {MaxBytes} bytes");
            }
        }

        // JsonDocument keeps a reference to the memory it parsed, so hand it a copy it can own.
        return Parse(copy.ToArray());
    }

    private static JsonReadResult Fail(JsonReadFailure failure, string error) => new(null, failure, error);
}
