using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fellows.Federation.Proofs;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Proofs;

/// <summary>
/// RFC 8785 (JCS). Inputs and outputs come from the RFC and from its reference test data
/// (github.com/cyberphone/json-canonicalization, testdata/input and testdata/output, Apache-2.0).
/// </summary>
public class JsonCanonicalizerTests
{
    private static string Canonical(string json)
    {
        using var document = JsonDocument.Parse(json);
        var ok = JsonCanonicalizer.TryCanonicalize(document.RootElement, out var bytes, out var error);
        Assert.That(ok, Is.True, () => error!);
        return Encoding.UTF8.GetString(bytes!);
    }

    private static string? Error(string json)
    {
        using var document = JsonDocument.Parse(json);
        var ok = JsonCanonicalizer.TryCanonicalize(document.RootElement, out _, out var error);
        Assert.That(ok, Is.False, "expected the value to be refused");
        return error;
    }

    // RFC 8785 section 3.2.2 / testdata "values": the RFC's own worked example.
    [Test]
    public void Canonicalize_rfc_values_example_gives_rfc_output()
    {
        const string input = """
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """;
        const string expected = """{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}""";

        Assert.That(Canonical(input), Is.EqualTo(expected));
    }

    // RFC 8785 section 3.2.4: the same output as UTF-8 bytes, in hex.
    [Test]
    public void Canonicalize_rfc_values_example_gives_rfc_bytes()
    {
        const string input = """{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}""";
        const string hex = """
            7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
            75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
            5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
            65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
            5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
            30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d
            """;
        using var document = JsonDocument.Parse(input);

        var bytes = JsonCanonicalizer.Canonicalize(document.RootElement);

        Assert.That(bytes, Is.EqualTo(Convert.FromHexString(string.Concat(hex.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)))));
    }

    [TestCase("""[56, {"d": true, "10": null, "1": [ ]}]""", """[56,{"1":[],"10":null,"d":true}]""", TestName = "Canonicalize_testdata_arrays_matches")]
    [TestCase("""
        {"peach": "This sorting order", "péché": "is wrong according to French",
         "pêche": "but canonicalization MUST", "sin": "ignore locale"}
        """, """{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ignore locale"}""", TestName = "Canonicalize_testdata_french_matches")]
    [TestCase("""
        {"1": {"f": {"f": "hi","F": 5} ,"\n": 56.0}, "10": { }, "": "empty", "a": { },
         "111": [ {"e": "yes","E": "no" } ], "A": { }}
        """, """{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{"E":"no","e":"yes"}],"A":{},"a":{}}""", TestName = "Canonicalize_testdata_structures_matches")]
    [TestCase("""{"Unnormalized Unicode":"A\u030a"}""", "{\"Unnormalized Unicode\":\"A\u030a\"}", TestName = "Canonicalize_testdata_unicode_is_not_normalised")]
    public void Canonicalize_reference_testdata_matches(string input, string expected) =>
        Assert.That(Canonical(input), Is.EqualTo(expected));

    // testdata "weird": member names sorted by UTF-16 code unit, including a surrogate pair
    // (U+1F602 sorts by its high surrogate 0xD83D, before U+FB33).
    [Test]
    public void Canonicalize_testdata_weird_sorts_by_utf16_code_units()
    {
        const string input = """
            {
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\u000a": "Newline",
              "1": "One",
              "\u0080": "Control\u007f",
              "\ud83d\ude02": "Smiley",
              "\u00f6": "Latin Small Letter O With Diaeresis",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "</script>": "Browser Challenge"
            }
            """;
        const string expected = "{\"\\n\":\"Newline\",\"\\r\":\"Carriage Return\",\"1\":\"One\",\"</script>\":\"Browser Challenge\"," +
            "\"\u0080\":\"Control\u007f\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\"," +
            "\"\ud83d\ude02\":\"Smiley\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}";

        Assert.That(Canonical(input), Is.EqualTo(expected));
    }

    // RFC 8785 Appendix B: IEEE-754 bit patterns and their ECMAScript serialisation.
    [TestCase("0000000000000000", "0")]
    [TestCase("8000000000000000", "0")]
    [TestCase("0000000000000001", "5e-324")]
    [TestCase("8000000000000001", "-5e-324")]
    [TestCase("7fefffffffffffff", "1.7976931348623157e+308")]
    [TestCase("ffefffffffffffff", "-1.7976931348623157e+308")]
    [TestCase("4340000000000000", "9007199254740992")]
    [TestCase("c340000000000000", "-9007199254740992")]
    [TestCase("4430000000000000", "295147905179352830000")]
    [TestCase("44b52d02c7e14af5", "9.999999999999997e+22")]
    [TestCase("44b52d02c7e14af6", "1e+23")]
    [TestCase("44b52d02c7e14af7", "1.0000000000000001e+23")]
    [TestCase("444b1ae4d6e2ef4e", "999999999999999700000")]
    [TestCase("444b1ae4d6e2ef4f", "999999999999999900000")]
    [TestCase("444b1ae4d6e2ef50", "1e+21")]
    [TestCase("3eb0c6f7a0b5ed8c", "9.999999999999997e-7")]
    [TestCase("3eb0c6f7a0b5ed8d", "0.000001")]
    [TestCase("41b3de4355555553", "333333333.3333332")]
    [TestCase("41b3de4355555554", "333333333.33333325")]
    [TestCase("41b3de4355555555", "333333333.3333333")]
    [TestCase("41b3de4355555556", "333333333.3333334")]
    [TestCase("41b3de4355555557", "333333333.33333343")]
    [TestCase("becbf647612f3696", "-0.0000033333333333333333")]
    [TestCase("43143ff3c1cb0959", "1424953923781206.2")]
    public void FormatNumber_rfc_appendix_b_value_matches(string ieeeHex, string expected)
    {
        var value = BitConverter.Int64BitsToDouble(long.Parse(ieeeHex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

        Assert.That(JsonCanonicalizer.FormatNumber(value), Is.EqualTo(expected));
    }

    // Number literals as they arrive in JSON text, through the whole canonicaliser.
    [TestCase("0", "0")]
    [TestCase("-0", "0")]
    [TestCase("-0.0e5", "0")]
    [TestCase("1e21", "1e+21")]
    [TestCase("1e20", "100000000000000000000")]
    [TestCase("1e-7", "1e-7")]
    [TestCase("0.000001", "0.000001")]
    [TestCase("333333333.33333329", "333333333.3333333")]
    [TestCase("1E30", "1e+30")]
    [TestCase("4.50", "4.5")]
    [TestCase("2e-3", "0.002")]
    [TestCase("9007199254740993", "9007199254740992")]
    [TestCase("-71.184902", "-71.184902")]
    [TestCase("123456789012345680000", "123456789012345680000")]
    [TestCase("1.5e300", "1.5e+300")]
    [TestCase("-1.25e-10", "-1.25e-10")]
    [TestCase("1e-400", "0")]
    public void Canonicalize_number_literal_uses_ecmascript_form(string literal, string expected) =>
        Assert.That(Canonical($"[{literal}]"), Is.EqualTo($"[{expected}]"));

    [TestCase("1e400")]
    [TestCase("-1e309")]
    public void Canonicalize_number_outside_double_range_is_refused(string literal) =>
        Assert.That(Error($"[{literal}]"), Does.Contain("outside the range"));

    [Test]
    public void FormatNumber_nan_or_infinity_throws()
    {
        Assert.That(() => JsonCanonicalizer.FormatNumber(double.NaN), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => JsonCanonicalizer.FormatNumber(double.PositiveInfinity), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => JsonCanonicalizer.FormatNumber(double.NegativeInfinity), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void TryCanonicalize_node_with_nan_is_refused()
    {
        var node = new JsonArray(JsonValue.Create(double.NaN));

        var ok = JsonCanonicalizer.TryCanonicalize(node, out _, out var error);

        Assert.That(ok, Is.False);
        Assert.That(error, Is.Not.Empty);
    }

    [Test]
    public void Canonicalize_duplicate_member_names_is_refused() =>
        Assert.That(Error("""{"a": 1, "b": {"c": 1, "c": 2}}"""), Does.Contain("duplicate"));

    [Test]
    public void Canonicalize_duplicate_after_unescaping_is_refused() =>
        Assert.That(Error("""{"a": 1, "\u0061": 2}"""), Does.Contain("duplicate"));

    [TestCase("""["\ud800"]""")]
    [TestCase("""["a\udc00b"]""")]
    [TestCase("""{"\ud83d": 1}""")]
    public void Canonicalize_lone_surrogate_is_refused(string json) =>
        Assert.That(Error(json), Is.Not.Empty);

    [Test]
    public void Canonicalize_control_characters_use_short_or_lowercase_escapes()
    {
        const string input = """["\u0000\u0001\b\t\n\u000b\f\r\u001f \u007f/<>&'\u2028"]""";

        Assert.That(Canonical(input), Is.EqualTo("[\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \u007f/<>&'\u2028\"]"));
    }

    [Test]
    public void Canonicalize_whitespace_and_literals_are_minimal() =>
        Assert.That(Canonical(" { \"t\" : true ,\n \"f\":false,\t\"n\" : null , \"e\": [ ], \"o\" : { } } "),
            Is.EqualTo("""{"e":[],"f":false,"n":null,"o":{},"t":true}"""));

    [Test]
    public void Canonicalize_scalar_root_is_allowed() =>
        Assert.That(Canonical("  \"x\"  "), Is.EqualTo("\"x\""));

    [Test]
    public void Canonicalize_node_and_element_give_same_bytes()
    {
        const string json = """{"b": [1, 2.50, "x", null, {"z": true, "a": -0}], "a": "\u00e9"}""";
        using var document = JsonDocument.Parse(json);

        var fromElement = JsonCanonicalizer.Canonicalize(document.RootElement);
        var fromNode = JsonCanonicalizer.Canonicalize(JsonNode.Parse(json));

        Assert.That(fromNode, Is.EqualTo(fromElement));
        Assert.That(Encoding.UTF8.GetString(fromNode), Is.EqualTo("""{"a":"é","b":[1,2.5,"x",null,{"a":0,"z":true}]}"""));
    }

    [Test]
    public void Canonicalize_node_with_clr_values_uses_their_json_form()
    {
        var node = new JsonObject
        {
            ["d"] = 1.10m,
            ["i"] = 42L,
            ["f"] = 0.1 + 0.2,
            ["s"] = "x",
        };

        Assert.That(Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize(node)), Is.EqualTo("""{"d":1.1,"f":0.30000000000000004,"i":42,"s":"x"}"""));
    }

    [Test]
    public void Canonicalize_null_node_is_json_null() =>
        Assert.That(Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize((JsonNode?)null)), Is.EqualTo("null"));

    [Test]
    public void Canonicalize_too_deep_nesting_is_refused()
    {
        var json = new string('[', 200) + new string(']', 200);
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 300 });

        var ok = JsonCanonicalizer.TryCanonicalize(document.RootElement, out _, out var error);

        Assert.That(ok, Is.False);
        Assert.That(error, Does.Contain("nested"));
    }

    // Property: the order members arrive in never changes the bytes.
    [Test]
    public void Canonicalize_reordered_members_give_identical_bytes([Range(0, 19)] int seed)
    {
        var random = new Random(seed);
        var original = RandomJson.Object(random, depth: 0);
        var reordered = RandomJson.Shuffled(original, random);

        var a = JsonCanonicalizer.Canonicalize(original);
        var b = JsonCanonicalizer.Canonicalize(reordered);

        Assert.That(b, Is.EqualTo(a));
    }

    // Property: canonical output is valid JSON whose canonical form is itself, and it means the
    // same data as the input.
    [Test]
    public void Canonicalize_random_json_round_trips_stably([Range(0, 49)] int seed)
    {
        var random = new Random(1000 + seed);
        var original = RandomJson.Object(random, depth: 0);

        var first = JsonCanonicalizer.Canonicalize(original);
        using var reparsed = JsonDocument.Parse(first);
        var second = JsonCanonicalizer.Canonicalize(reparsed.RootElement);

        Assert.That(second, Is.EqualTo(first));
        using var originalDocument = JsonDocument.Parse(original.ToJsonString());
        Assert.That(RandomJson.SameData(originalDocument.RootElement, reparsed.RootElement), Is.True,
            () => $"{original.ToJsonString()}\n{Encoding.UTF8.GetString(first)}");
    }

    // Property: every double is written in a form that parses back to the same double.
    [Test]
    public void FormatNumber_random_doubles_round_trip([Range(0, 4)] int seed)
    {
        var random = new Random(seed);
        Span<byte> bits = stackalloc byte[8];
        for (var i = 0; i < 20_000; i++)
        {
            random.NextBytes(bits);
            var value = BitConverter.ToDouble(bits);
            if (!double.IsFinite(value))
                continue;

            var text = JsonCanonicalizer.FormatNumber(value);

            var back = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (back != value && !(value == 0 && back == 0))
                Assert.Fail($"{value:R} was written as {text}, which reads back as {back:R}");
            if (text.Contains('E', StringComparison.Ordinal) || text.StartsWith('.') || text.EndsWith('.'))
                Assert.Fail($"{value:R} was written as {text}, which is not ECMAScript's form");
        }
    }
}

/// <summary>Seeded random JSON for property tests.</summary>
internal static class RandomJson
{
    private static readonly string[] Names =
        ["a", "b", "B", "aa", "", "é", "\u20ac", "\ud83d\ude02", "\ufb33", "10", "1", "\n", "type", "id", "@context", "z"];

    public static JsonObject Object(Random random, int depth)
    {
        var obj = new JsonObject();
        var count = random.Next(depth > 2 ? 3 : 7);
        foreach (var name in Names.OrderBy(_ => random.Next()).Take(count))
            obj[name] = Value(random, depth + 1);
        return obj;
    }

    public static JsonNode? Value(Random random, int depth)
    {
        var choice = random.Next(depth > 3 ? 5 : 7);
        return choice switch
        {
            0 => null,
            1 => JsonValue.Create(random.Next(2) == 0),
            2 => JsonValue.Create(Number(random)),
            3 => JsonValue.Create(String(random)),
            4 => JsonValue.Create(random.Next(-1000, 1000)),
            5 => new JsonArray(Enumerable.Range(0, random.Next(4)).Select(_ => Value(random, depth + 1)).ToArray()),
            _ => Object(random, depth),
        };
    }

    /// <summary>A deep copy with every object's members in a new random order.</summary>
    public static JsonNode? Shuffled(JsonNode? node, Random random) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(_ => random.Next())
            .Select(p => KeyValuePair.Create(p.Key, Shuffled(p.Value, random)))),
        JsonArray array => new JsonArray(array.Select(item => Shuffled(item, random)).ToArray()),
        null => null,
        _ => node.DeepClone(),
    };

    /// <summary>Structural equality where numbers compare as doubles and member order is ignored.</summary>
    public static bool SameData(JsonElement a, JsonElement b)
    {
        if (a.ValueKind != b.ValueKind)
            return false;
        switch (a.ValueKind)
        {
            case JsonValueKind.Object:
                var aMembers = a.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
                var bMembers = b.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
                return aMembers.Count == bMembers.Count &&
                    aMembers.All(p => bMembers.TryGetValue(p.Key, out var other) && SameData(p.Value, other));
            case JsonValueKind.Array:
                return a.GetArrayLength() == b.GetArrayLength() &&
                    a.EnumerateArray().Zip(b.EnumerateArray()).All(pair => SameData(pair.First, pair.Second));
            case JsonValueKind.Number:
                return a.GetDouble() == b.GetDouble();
            case JsonValueKind.String:
                return string.Equals(a.GetString(), b.GetString(), StringComparison.Ordinal);
            default:
                return true;
        }
    }

    private static double Number(Random random) => random.Next(6) switch
    {
        0 => random.NextDouble(),
        1 => -random.NextDouble() * Math.Pow(10, random.Next(-10, 10)),
        2 => Math.Pow(10, random.Next(-30, 30)) * random.NextDouble(),
        3 => random.Next(int.MinValue, int.MaxValue) / 100.0,
        4 => BitConverter.Int64BitsToDouble(random.NextInt64(0, 0x7FEFFFFFFFFFFFFF)),
        _ => 9007199254740992.0 + random.Next(100),
    };

    private static string String(Random random)
    {
        // Mix plain ASCII, characters that need escaping, non-ASCII and astral-plane characters.
        string[] pieces = ["a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\u0001", "\u001f", "\u007f", "é", "\u20ac", "\ud83d\ude02", "\u2028", "<", "&"];
        var builder = new StringBuilder();
        for (var i = random.Next(8); i > 0; i--)
            builder.Append(pieces[random.Next(pieces.Length)]);
        return builder.ToString();
    }
}
