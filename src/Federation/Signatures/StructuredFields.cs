using System.Globalization;
using System.Text;

namespace Fellows.Federation.Signatures;

/// <summary>The kinds of RFC 8941 bare item this parser keeps.</summary>
internal enum SfKind
{
    Integer,
    Decimal,
    String,
    Token,
    ByteSequence,
    Boolean,
}

/// <summary>An RFC 8941 bare item. Only one of the value fields is meaningful, per <see cref="Kind"/>.</summary>
internal readonly record struct SfBareItem(SfKind Kind, long Integer = 0, string? Text = null, byte[]? Bytes = null, bool Boolean = false)
{
    /// <summary>Serializes the item as RFC 8941 Section 4.1 requires (needed for <c>@signature-params</c>).</summary>
    public void WriteTo(StringBuilder sb)
    {
        switch (Kind)
        {
            case SfKind.Integer:
                sb.Append(Integer.ToString(CultureInfo.InvariantCulture));
                break;
            case SfKind.Decimal:
                sb.Append(Text); // kept verbatim as parsed; Fellows never signs decimals
                break;
            case SfKind.String:
                sb.Append('"');
                foreach (var c in Text!)
                {
                    if (c is '"' or '\\')
                        sb.Append('\\');
                    sb.Append(c);
                }

                sb.Append('"');
                break;
            case SfKind.Token:
                sb.Append(Text);
                break;
            case SfKind.ByteSequence:
                sb.Append(':').Append(Convert.ToBase64String(Bytes!)).Append(':');
                break;
            case SfKind.Boolean:
                sb.Append(Boolean ? "?1" : "?0");
                break;
        }
    }
}

/// <summary>A dictionary member: either an item or an inner list, each with parameters.</summary>
internal sealed class SfMember
{
    public required string Key { get; init; }
    public SfBareItem? Item { get; init; }
    public List<SfInnerItem>? InnerList { get; init; }
    public required List<KeyValuePair<string, SfBareItem>> Parameters { get; init; }
}

/// <summary>An item inside an inner list, with its parameters.</summary>
internal sealed record SfInnerItem(SfBareItem Item, List<KeyValuePair<string, SfBareItem>> Parameters);

/// <summary>
/// A small RFC 8941 dictionary parser, just enough for Signature-Input, Signature and
/// Content-Digest. The input comes from strangers, so every limit is explicit and failure
/// is a return value: no exceptions, no unbounded work.
/// </summary>
internal static class StructuredFieldParser
{
    public const int MaxMembers = 16;
    public const int MaxInnerListItems = 32;
    public const int MaxParameters = 16;
    public const int MaxKeyLength = 64;

    public static bool TryParseDictionary(string input, out List<SfMember> members)
    {
        members = new List<SfMember>(2);
        var p = new Cursor(input);
        p.SkipSp();
        if (p.AtEnd)
            return false;
        while (true)
        {
            if (members.Count >= MaxMembers || !p.TryKey(out var key))
                return false;
            SfMember member;
            if (p.Peek == '=')
            {
                p.Advance();
                if (p.Peek == '(')
                {
                    if (!p.TryInnerList(out var inner) || !p.TryParameters(out var prms))
                        return false;
                    member = new SfMember { Key = key, InnerList = inner, Parameters = prms };
                }
                else
                {
                    if (!p.TryBareItem(out var item) || !p.TryParameters(out var prms))
                        return false;
                    member = new SfMember { Key = key, Item = item, Parameters = prms };
                }
            }
            else
            {
                if (!p.TryParameters(out var prms))
                    return false;
                member = new SfMember { Key = key, Item = new SfBareItem(SfKind.Boolean, Boolean: true), Parameters = prms };
            }

            // Last one wins per RFC 8941, which also keeps a duplicate label from adding work.
            var existing = members.FindIndex(m => m.Key == key);
            if (existing >= 0)
                members[existing] = member;
            else
                members.Add(member);

            p.SkipOws();
            if (p.AtEnd)
                return true;
            if (p.Peek != ',')
                return false;
            p.Advance();
            p.SkipOws();
            if (p.AtEnd)
                return false; // trailing comma
        }
    }

    private ref struct Cursor(string s)
    {
        private readonly string _s = s;
        private int _i;

        public readonly bool AtEnd => _i >= _s.Length;
        public readonly char Peek => _i < _s.Length ? _s[_i] : '\0';
        public void Advance() => _i++;

        public void SkipSp()
        {
            while (_i < _s.Length && _s[_i] == ' ')
                _i++;
        }

        public void SkipOws()
        {
            while (_i < _s.Length && _s[_i] is ' ' or '\t')
                _i++;
        }

        public bool TryKey(out string key)
        {
            key = "";
            var start = _i;
            if (AtEnd || !(Peek is >= 'a' and <= 'z' or '*'))
                return false;
            _i++;
            while (!AtEnd && Peek is >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '-' or '.' or '*')
                _i++;
            if (_i - start > MaxKeyLength)
                return false;
            key = _s[start.._i];
            return true;
        }

        public bool TryInnerList(out List<SfInnerItem> items)
        {
            items = [];
            _i++; // '('
            while (true)
            {
                SkipSp();
                if (AtEnd)
                    return false;
                if (Peek == ')')
                {
                    _i++;
                    return true;
                }

                if (items.Count >= MaxInnerListItems || !TryBareItem(out var item) || !TryParameters(out var prms))
                    return false;
                items.Add(new SfInnerItem(item, prms));
                if (!AtEnd && Peek is not (' ' or ')'))
                    return false;
            }
        }

        public bool TryParameters(out List<KeyValuePair<string, SfBareItem>> prms)
        {
            prms = [];
            while (!AtEnd && Peek == ';')
            {
                _i++;
                SkipSp();
                if (prms.Count >= MaxParameters || !TryKey(out var key))
                    return false;
                var value = new SfBareItem(SfKind.Boolean, Boolean: true);
                if (Peek == '=')
                {
                    _i++;
                    if (!TryBareItem(out value))
                        return false;
                }

                var existing = prms.FindIndex(kv => kv.Key == key);
                if (existing >= 0)
                    prms[existing] = new(key, value);
                else
                    prms.Add(new(key, value));
            }

            return true;
        }

        public bool TryBareItem(out SfBareItem item)
        {
            item = default;
            if (AtEnd)
                return false;
            var c = Peek;
            if (c is '-' or >= '0' and <= '9')
                return TryNumber(out item);
            if (c == '"')
                return TryString(out item);
            if (c == ':')
                return TryBytes(out item);
            if (c == '?')
            {
                _i++;
                if (Peek is '0' or '1')
                {
                    item = new SfBareItem(SfKind.Boolean, Boolean: Peek == '1');
                    _i++;
                    return true;
                }

                return false;
            }

            if (c is '*' or >= 'a' and <= 'z' or >= 'A' and <= 'Z')
            {
                var start = _i++;
                while (!AtEnd && IsTokenChar(Peek))
                    _i++;
                item = new SfBareItem(SfKind.Token, Text: _s[start.._i]);
                return true;
            }

            return false;
        }

        private bool TryNumber(out SfBareItem item)
        {
            item = default;
            var start = _i;
            if (Peek == '-')
                _i++;
            var digitsStart = _i;
            while (!AtEnd && char.IsAsciiDigit(Peek))
                _i++;
            var intDigits = _i - digitsStart;
            if (intDigits == 0)
                return false;
            if (!AtEnd && Peek == '.')
            {
                if (intDigits > 12)
                    return false;
                _i++;
                var fracStart = _i;
                while (!AtEnd && char.IsAsciiDigit(Peek))
                    _i++;
                var frac = _i - fracStart;
                if (frac is 0 or > 3)
                    return false;
                item = new SfBareItem(SfKind.Decimal, Text: _s[start.._i]);
                return true;
            }

            if (intDigits > 15)
                return false;
            item = new SfBareItem(SfKind.Integer, Integer: long.Parse(_s.AsSpan(start, _i - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
            return true;
        }

        private bool TryString(out SfBareItem item)
        {
            item = default;
            _i++; // opening quote
            StringBuilder? sb = null;
            var start = _i;
            while (!AtEnd)
            {
                var c = _s[_i];
                if (c == '\\')
                {
                    if (_i + 1 >= _s.Length || _s[_i + 1] is not ('"' or '\\'))
                        return false;
                    sb ??= new StringBuilder();
                    sb.Append(_s, start, _i - start).Append(_s[_i + 1]);
                    _i += 2;
                    start = _i;
                    continue;
                }

                if (c == '"')
                {
                    var text = sb is null ? _s[start.._i] : sb.Append(_s, start, _i - start).ToString();
                    _i++;
                    item = new SfBareItem(SfKind.String, Text: text);
                    return true;
                }

                if (c is < ' ' or > '~')
                    return false;
                _i++;
            }

            return false;
        }

        private bool TryBytes(out SfBareItem item)
        {
            item = default;
            _i++; // ':'
            var start = _i;
            while (!AtEnd && Peek != ':')
            {
                if (!(char.IsAsciiLetterOrDigit(Peek) || Peek is '+' or '/' or '='))
                    return false;
                _i++;
            }

            if (AtEnd)
                return false;
            var span = _s.AsSpan(start, _i - start);
            _i++; // ':'
            var bytes = new byte[span.Length / 4 * 3 + 3];
            if (!Convert.TryFromBase64Chars(span, bytes, out var written))
                return false;
            item = new SfBareItem(SfKind.ByteSequence, Bytes: bytes.AsSpan(0, written).ToArray());
            return true;
        }

        private static bool IsTokenChar(char c) =>
            char.IsAsciiLetterOrDigit(c) || c is ':' or '/' or '!' or '#' or '$' or '%' or '&' or '\'' or '*'
                or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';
    }
}
