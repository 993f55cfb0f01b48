using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fellows.Federation.Proofs;

/// <summary>
/// The JSON Canonicalization Scheme (RFC 8785): the one byte sequence that every conforming
/// implementation produces for the same JSON data, so that it can be hashed and signed.
/// </summary>
/// <remarks>
/// Object members are sorted by the UTF-16 code units of their names, whitespace is dropped,
/// strings are escaped as ECMAScript's <c>JSON.stringify</c> does and numbers are written as
/// ECMAScript writes a double. Input that has no canonical form (duplicate member names, numbers
/// outside the double range, lone surrogates) is refused rather than guessed at, because two
/// parties that guess differently would disagree about a signature.
/// </remarks>
public static class JsonCanonicalizer
{
    // System.Text.Json's own default is 64; a little more head-room for documents parsed with a
    // larger MaxDepth, while still keeping recursion far from the stack limit.
    private const int MaxDepth = 128;

    // Strict: a lone surrogate has no UTF-8 form, and replacing it with U+FFFD would make two
    // different strings canonicalise alike.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Canonicalises <paramref name="element"/>; returns false with a reason when it has no canonical form.</summary>
    public static bool TryCanonicalize(JsonElement element, [NotNullWhen(true)] out byte[]? canonical, [NotNullWhen(false)] out string? error) =>
        TryCanonicalizeObject(element, omit: null, replace: null, out canonical, out error);

    /// <summary>
    /// Canonicalises <paramref name="node"/> (null stands for JSON <c>null</c>); returns false with a
    /// reason when it has no canonical form.
    /// </summary>
    public static bool TryCanonicalize(JsonNode? node, [NotNullWhen(true)] out byte[]? canonical, [NotNullWhen(false)] out string? error)
    {
        if (!TryToElement(node, out var element, out error))
        {
            canonical = null;
            return false;
        }

        return TryCanonicalize(element, out canonical, out error);
    }

    /// <summary>Canonicalises data the caller built itself, where a failure is a programming error.</summary>
    /// <exception cref="ArgumentException">The value has no canonical form.</exception>
    public static byte[] Canonicalize(JsonElement element) =>
        TryCanonicalize(element, out var canonical, out var error)
            ? canonical
            : throw new ArgumentException($"The JSON value cannot be canonicalised: {error}", nameof(element));

    /// <summary>Canonicalises data the caller built itself, where a failure is a programming error.</summary>
    /// <exception cref="ArgumentException">The value has no canonical form.</exception>
    public static byte[] Canonicalize(JsonNode? node) =>
        TryCanonicalize(node, out var canonical, out var error)
            ? canonical
            : throw new ArgumentException($"The JSON value cannot be canonicalised: {error}", nameof(node));

    /// <summary>
    /// Canonicalises <paramref name="element"/>, which when it is an object may first lose the
    /// top-level members named in <paramref name="omit"/> and gain or overwrite those in
    /// <paramref name="replace"/>. Integrity proofs need exactly this (the document without its
    /// <c>proof</c>, the proof without its <c>proofValue</c> but with an <c>@context</c>), and
    /// doing it here avoids copying the whole document into a mutable tree first.
    /// </summary>
    internal static bool TryCanonicalizeObject(
        JsonElement element,
        IReadOnlyCollection<string>? omit,
        IReadOnlyDictionary<string, JsonElement>? replace,
        [NotNullWhen(true)] out byte[]? canonical,
        [NotNullWhen(false)] out string? error)
    {
        canonical = null;
        var output = new ArrayBufferWriter<byte>(1024);
        try
        {
            if ((omit is { Count: > 0 } || replace is { Count: > 0 }) && element.ValueKind == JsonValueKind.Object)
                error = WriteObject(element, output, depth: 0, omit, replace);
            else
                error = WriteValue(element, output, depth: 0);
        }
        catch (InvalidOperationException e)
        {
            // GetString() throws this when an escaped string is not valid UTF-16 (a lone surrogate).
            error = "a string is not valid Unicode: " + e.Message;
        }

        if (error is not null)
            return false;
        canonical = output.WrittenSpan.ToArray();
        return true;
    }

    /// <summary>Turns a <see cref="JsonNode"/> into a <see cref="JsonElement"/> by writing and re-reading it.</summary>
    /// <remarks>
    /// A node's values may wrap arbitrary CLR values (a <c>decimal</c>, a <c>Guid</c>, a <c>char</c>);
    /// serialising them once lets a single code path handle every value by its JSON text.
    /// </remarks>
    internal static bool TryToElement(JsonNode? node, out JsonElement element, [NotNullWhen(false)] out string? error)
    {
        element = default;
        try
        {
            var buffer = new ArrayBufferWriter<byte>(1024);
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = false, MaxDepth = MaxDepth }))
            {
                if (node is null)
                    writer.WriteNullValue();
                else
                    node.WriteTo(writer);
            }

            using var document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = MaxDepth });
            element = document.RootElement.Clone();
            error = null;
            return true;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            // NaN and the infinities end up here: Utf8JsonWriter refuses to write them.
            error = "the node cannot be written as JSON: " + e.Message;
            return false;
        }
    }

    private static string? WriteValue(JsonElement value, ArrayBufferWriter<byte> output, int depth)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                return WriteObject(value, output, depth, omit: null, replace: null);
            case JsonValueKind.Array:
                return WriteArray(value, output, depth);
            case JsonValueKind.String:
                return WriteString(value.GetString()!, output);
            case JsonValueKind.Number:
                return WriteNumber(value, output);
            case JsonValueKind.True:
                WriteAscii("true", output);
                return null;
            case JsonValueKind.False:
                WriteAscii("false", output);
                return null;
            case JsonValueKind.Null:
                WriteAscii("null", output);
                return null;
            default:
                return "the JSON value is undefined";
        }
    }

    private static string? WriteObject(
        JsonElement value,
        ArrayBufferWriter<byte> output,
        int depth,
        IReadOnlyCollection<string>? omit,
        IReadOnlyDictionary<string, JsonElement>? replace)
    {
        if (depth >= MaxDepth)
            return $"the JSON is nested more than {MaxDepth} levels deep";

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var members = new List<KeyValuePair<string, JsonElement>>();
        foreach (var property in value.EnumerateObject())
        {
            // RFC 8785 relies on I-JSON, which forbids duplicates; accepting them would let two
            // parsers (first wins, last wins) see different documents behind one signature.
            if (!seen.Add(property.Name))
                return $"duplicate member name \"{property.Name}\"";
            if (omit is not null && omit.Contains(property.Name))
                continue;
            if (replace is not null && replace.ContainsKey(property.Name))
                continue;
            members.Add(new(property.Name, property.Value));
        }

        if (replace is not null)
            members.AddRange(replace);

        // Ordinal comparison of .NET strings is comparison of UTF-16 code units, which is what
        // RFC 8785 section 3.2.3 asks for (not Unicode code points, not any locale's collation).
        members.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));

        WriteByte((byte)'{', output);
        for (var i = 0; i < members.Count; i++)
        {
            if (i > 0)
                WriteByte((byte)',', output);
            var error = WriteString(members[i].Key, output);
            if (error is not null)
                return error;
            WriteByte((byte)':', output);
            error = WriteValue(members[i].Value, output, depth + 1);
            if (error is not null)
                return error;
        }

        WriteByte((byte)'}', output);
        return null;
    }

    private static string? WriteArray(JsonElement value, ArrayBufferWriter<byte> output, int depth)
    {
        if (depth >= MaxDepth)
            return $"the JSON is nested more than {MaxDepth} levels deep";

        WriteByte((byte)'[', output);
        var first = true;
        foreach (var item in value.EnumerateArray())
        {
            if (!first)
                WriteByte((byte)',', output);
            first = false;
            var error = WriteValue(item, output, depth + 1);
            if (error is not null)
                return error;
        }

        WriteByte((byte)']', output);
        return null;
    }

    private static string? WriteString(string value, ArrayBufferWriter<byte> output)
    {
        WriteByte((byte)'"', output);
        var runStart = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c >= 0x20 && c != '"' && c != '\\')
                continue;

            // Flush the run of characters that need no escaping, then the escape itself.
            var error = WriteUtf8(value.AsSpan(runStart, i - runStart), output);
            if (error is not null)
                return error;
            runStart = i + 1;
            switch (c)
            {
                case '"': WriteAscii("\\\"", output); break;
                case '\\': WriteAscii("\\\\", output); break;
                case '\b': WriteAscii("\\b", output); break;
                case '\f': WriteAscii("\\f", output); break;
                case '\n': WriteAscii("\\n", output); break;
                case '\r': WriteAscii("\\r", output); break;
                case '\t': WriteAscii("\\t", output); break;
                default:
                    // Lower-case hex, as JSON.stringify writes it.
                    WriteAscii("\\u00", output);
                    WriteAscii(((int)c).ToString("x2", CultureInfo.InvariantCulture), output);
                    break;
            }
        }

        var tailError = WriteUtf8(value.AsSpan(runStart), output);
        if (tailError is not null)
            return tailError;
        WriteByte((byte)'"', output);
        return null;
    }

    private static string? WriteNumber(JsonElement value, ArrayBufferWriter<byte> output)
    {
        // Parse the literal text ourselves: JSON has no integer/float distinction, JCS treats every
        // number as an IEEE-754 double, and .NET's parser rounds correctly.
        var raw = value.GetRawText();
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
            return $"the number {raw} is outside the range of an IEEE-754 double";
        WriteAscii(FormatNumber(number), output);
        return null;
    }

    /// <summary>
    /// Writes a finite double as ECMAScript's Number::toString does (ECMA-262, section 6.1.6.1.20),
    /// which RFC 8785 section 3.2.2.3 adopts.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    internal static string FormatNumber(double value)
    {
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(nameof(value), "NaN and the infinities have no JSON form.");
        if (value == 0)
            return "0"; // covers -0, which ECMAScript also writes as "0"

        // Since .NET Core 3.0 "R" yields the shortest digit string that round-trips, the same digits
        // ECMAScript chooses; only the layout (exponent thresholds, "e+") differs, so re-lay it out.
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = text[0] == '-';
        if (negative)
            text = text[1..];

        var exponent = 0;
        var mantissa = text;
        var e = text.IndexOf('E', StringComparison.Ordinal);
        if (e >= 0)
        {
            exponent = int.Parse(text.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = text[..e];
        }

        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var digits = dot >= 0 ? string.Concat(mantissa.AsSpan(0, dot), mantissa.AsSpan(dot + 1)) : mantissa;
        var integerDigits = dot >= 0 ? dot : mantissa.Length;

        var leadingZeros = 0;
        while (leadingZeros < digits.Length - 1 && digits[leadingZeros] == '0')
            leadingZeros++;
        digits = digits[leadingZeros..].TrimEnd('0');

        // In ECMA-262's terms: value = 0.digits × 10^n, with k significant digits.
        var k = digits.Length;
        var n = integerDigits - leadingZeros + exponent;

        var result = new StringBuilder(32);
        if (negative)
            result.Append('-');

        if (k <= n && n <= 21)
        {
            result.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            result.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            result.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            result.Append(digits[0]);
            if (k > 1)
                result.Append('.').Append(digits, 1, k - 1);
            var shown = n - 1;
            result.Append('e').Append(shown < 0 ? '-' : '+').Append(Math.Abs(shown).ToString(CultureInfo.InvariantCulture));
        }

        return result.ToString();
    }

    private static string? WriteUtf8(ReadOnlySpan<char> text, ArrayBufferWriter<byte> output)
    {
        if (text.IsEmpty)
            return null;
        try
        {
            var span = output.GetSpan(StrictUtf8.GetMaxByteCount(text.Length));
            output.Advance(StrictUtf8.GetBytes(text, span));
            return null;
        }
        catch (EncoderFallbackException)
        {
            return "a string contains a lone UTF-16 surrogate";
        }
    }

    private static void WriteAscii(string text, ArrayBufferWriter<byte> output)
    {
        var span = output.GetSpan(text.Length);
        for (var i = 0; i < text.Length; i++)
            span[i] = (byte)text[i];
        output.Advance(text.Length);
    }

    private static void WriteByte(byte b, ArrayBufferWriter<byte> output)
    {
        output.GetSpan(1)[0] = b;
        output.Advance(1);
    }
}
