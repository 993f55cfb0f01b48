using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Fellows.Federation.Proofs;

namespace Fellows.Federation.Deliberation;

/// <summary>An audit path from one ballot's leaf to a tally digest (RFC 9162 §2.1.3).</summary>
/// <param name="LeafIndex">The ballot's position in digest order.</param>
/// <param name="TreeSize">How many ballots the tally counted.</param>
/// <param name="Path">Sibling hashes from the leaf upwards, lowercase hex.</param>
public sealed record InclusionProof(int LeafIndex, int TreeSize, IReadOnlyList<string> Path);

/// <summary>
/// The verifiable digest of a tally: a Merkle tree hash (as in Certificate Transparency, RFC 9162 §2.1) over
/// the counted ballots.
/// </summary>
/// <remarks>
/// <para>Leaf data is the JCS (RFC 8785) canonical form of <see cref="LeafObject"/>. A leaf hashes as
/// <c>SHA-256(0x00 ‖ leaf)</c>, an inner node as <c>SHA-256(0x01 ‖ left ‖ right)</c>; the leaves are sorted
/// by their hash (unsigned bytes, ascending) so the digest does not depend on the order stances arrived in;
/// a tree of n &gt; 1 leaves splits after the largest power of two below n; the empty tree hashes as
/// <c>SHA-256("")</c>.</para>
/// <para>Why a tree rather than one hash over a sorted list: a member can check that their own ballot was
/// counted from their ballot, the digest and about log2(n) hashes, without downloading every ballot.</para>
/// <para>Secret ballots: the leaf names the receipt instead of the voter and stance, so the published ballots
/// show every choice but not who made it, and only the voter (who holds the nonce) can tie a receipt to
/// themselves.</para>
/// </remarks>
public static class TallyDigest
{
    /// <summary>The digest method's name in documents.</summary>
    public const string Method = "fellows-merkle-sha256";

    /// <summary>Nonces shorter than this many bytes are refused: a receipt must not be guessable.</summary>
    public const int MinNonceBytes = 16;

    /// <summary>
    /// The canonical object a ballot is hashed as. Members, all optional except <c>coop</c> and <c>choice</c>:
    /// <c>id</c> and <c>actor</c> (public: stance id and voter), <c>receipt</c> (secret), <c>coop</c>,
    /// <c>choice</c> (array, order kept), <c>scores</c> (array of <c>{"option", "score"}</c> as the stance gave them), <c>abstain</c> (true),
    /// <c>blockResolved</c> (true), <c>proofValue</c> (public).
    /// </summary>
    public static JsonObject LeafObject(Ballot ballot)
    {
        ArgumentNullException.ThrowIfNull(ballot);
        var leaf = new JsonObject();
        if (ballot.StanceId is not null)
            leaf["id"] = ballot.StanceId;
        if (ballot.Voter is not null)
            leaf["actor"] = ballot.Voter;
        if (ballot.Receipt is not null)
            leaf["receipt"] = ballot.Receipt;
        leaf["coop"] = ballot.Coop;
        leaf["choice"] = Strings(ballot.Choices);
        if (ballot.Scores.Count > 0)
            leaf["scores"] = ScoreObject(ballot.Scores);
        if (ballot.Abstain)
            leaf["abstain"] = true;
        if (ballot.BlockResolved)
            leaf["blockResolved"] = true;
        if (ballot.ProofValue is not null)
            leaf["proofValue"] = ballot.ProofValue;
        return leaf;
    }

    /// <summary>The leaf's bytes: JCS of <see cref="LeafObject"/>.</summary>
    public static byte[] LeafData(Ballot ballot) => JsonCanonicalizer.Canonicalize(LeafObject(ballot));

    /// <summary><c>SHA-256(0x00 ‖ leaf data)</c>.</summary>
    public static byte[] LeafHash(Ballot ballot) => LeafHash(LeafData(ballot));

    /// <summary>The ballots in digest order (ascending leaf hash) and their digest, each leaf hashed once.</summary>
    internal static (IReadOnlyList<Ballot> Ordered, string Digest) OrderAndCompute(IEnumerable<Ballot> ballots)
    {
        ArgumentNullException.ThrowIfNull(ballots);
        var list = ballots.ToArray();
        var leaves = list.Select(LeafHash).ToArray();
        Array.Sort(leaves, list, ByteOrder.Instance);
        return (list, Convert.ToHexStringLower(Root(leaves, 0, leaves.Length)));
    }

    /// <summary>The digest (Merkle root, lowercase hex) of <paramref name="ballots"/>, in any order.</summary>
    public static string Compute(IEnumerable<Ballot> ballots)
    {
        var leaves = SortedLeafHashes(ballots);
        return Convert.ToHexStringLower(Root(leaves, 0, leaves.Length));
    }

    /// <summary>True when <paramref name="digest"/> is the digest of exactly <paramref name="ballots"/>.</summary>
    public static bool Verify(string digest, IEnumerable<Ballot> ballots) =>
        string.Equals(Compute(ballots), digest, StringComparison.OrdinalIgnoreCase);

    /// <summary>The audit path for <paramref name="ballot"/> among <paramref name="ballots"/>; null when it is not one of them.</summary>
    public static InclusionProof? Prove(IEnumerable<Ballot> ballots, Ballot ballot)
    {
        var leaves = SortedLeafHashes(ballots);
        var mine = LeafHash(ballot);
        var index = Array.FindIndex(leaves, l => l.AsSpan().SequenceEqual(mine));
        if (index < 0)
            return null;
        var path = new List<string>();
        Path(leaves, index, 0, leaves.Length, path);
        return new InclusionProof(index, leaves.Length, path);
    }

    /// <summary>
    /// True when <paramref name="proof"/> shows that <paramref name="ballot"/> is a leaf of the tree whose
    /// root is <paramref name="digest"/> (RFC 9162 §2.1.3.2). Never throws for bad input.
    /// </summary>
    public static bool VerifyInclusion(string digest, Ballot ballot, InclusionProof proof)
    {
        ArgumentNullException.ThrowIfNull(ballot);
        ArgumentNullException.ThrowIfNull(proof);
        if (proof.LeafIndex < 0 || proof.LeafIndex >= proof.TreeSize || digest is null)
            return false;

        long fn = proof.LeafIndex;
        long sn = proof.TreeSize - 1;
        var r = LeafHash(ballot);
        foreach (var hex in proof.Path)
        {
            if (!TryHex(hex, out var p) || sn == 0)
                return false;
            if ((fn & 1) == 1 || fn == sn)
            {
                r = Node(p, r);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                r = Node(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && string.Equals(Convert.ToHexStringLower(r), digest, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// A secret-ballot receipt: lowercase hex <c>SHA-256(JCS({"motion", "nonce", "choice", "scores"?, "abstain"?}))</c>
    /// (choices and scores in the order the stance gives them, scores as an array of <c>{"option", "score"}</c>)
    /// where <c>nonce</c> is base64url (no padding) of at least <see cref="MinNonceBytes"/> random bytes the voter
    /// keeps. It commits to the motion and the choice, so the counting instance cannot move the ballot to
    /// another choice without the voter seeing it, and reveals nothing without the nonce.
    /// </summary>
    public static string Receipt(string motionId, ReadOnlySpan<byte> nonce, IReadOnlyList<string> choices, IReadOnlyList<OptionScore>? scores = null, bool abstain = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(motionId);
        ArgumentNullException.ThrowIfNull(choices);
        if (nonce.Length < MinNonceBytes)
            throw new ArgumentException($"The nonce needs at least {MinNonceBytes} bytes.", nameof(nonce));
        var body = new JsonObject
        {
            ["motion"] = motionId,
            ["nonce"] = Base64Url(nonce),
            ["choice"] = Strings(choices),
        };
        if (scores is { Count: > 0 })
            body["scores"] = ScoreObject(scores);
        if (abstain)
            body["abstain"] = true;
        return Convert.ToHexStringLower(SHA256.HashData(JsonCanonicalizer.Canonicalize(body)));
    }

    /// <summary>A fresh random nonce for <see cref="Receipt"/>.</summary>
    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(32);

    /// <summary>True when <paramref name="receipt"/> looks like one: 64 lowercase hex characters.</summary>
    public static bool IsWellFormedReceipt(string? receipt) =>
        receipt is { Length: 64 } && receipt.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    /// <summary>
    /// What a secret-ballot voter runs after the close: recompute the receipt from the nonce and the choice,
    /// find the published ballot with that receipt, check it carries the same choice, and check it is in the
    /// digest (with <paramref name="proof"/>, or by recomputing the digest over all <paramref name="published"/>).
    /// </summary>
    public static bool VerifyOwnSecretBallot(
        string motionId,
        ReadOnlySpan<byte> nonce,
        IReadOnlyList<string> choices,
        IReadOnlyList<OptionScore>? scores,
        bool abstain,
        IReadOnlyList<Ballot> published,
        string digest,
        InclusionProof? proof = null)
    {
        ArgumentNullException.ThrowIfNull(published);
        if (nonce.Length < MinNonceBytes)
            return false;
        var receipt = Receipt(motionId, nonce, choices, scores, abstain);
        var mine = published.FirstOrDefault(b => b.Receipt == receipt);
        if (mine is null
            || !mine.Choices.SequenceEqual(choices)
            || !mine.Scores.SequenceEqual(scores ?? [])
            || mine.Abstain != abstain)
            return false;
        return proof is not null ? VerifyInclusion(digest, mine, proof) : Verify(digest, published);
    }

    private static byte[][] SortedLeafHashes(IEnumerable<Ballot> ballots)
    {
        ArgumentNullException.ThrowIfNull(ballots);
        var leaves = ballots.Select(LeafHash).ToArray();
        Array.Sort(leaves, ByteOrder.Instance);
        return leaves;
    }

    private static byte[] LeafHash(byte[] data)
    {
        var buffer = new byte[data.Length + 1];
        data.CopyTo(buffer, 1);
        return SHA256.HashData(buffer);
    }

    private static byte[] Node(byte[] left, byte[] right)
    {
        var buffer = new byte[1 + left.Length + right.Length];
        buffer[0] = 1;
        left.CopyTo(buffer, 1);
        right.CopyTo(buffer, 1 + left.Length);
        return SHA256.HashData(buffer);
    }

    private static byte[] Root(byte[][] leaves, int start, int end)
    {
        var n = end - start;
        if (n == 0)
            return SHA256.HashData([]);
        if (n == 1)
            return leaves[start];
        var k = SplitPoint(n);
        return Node(Root(leaves, start, start + k), Root(leaves, start + k, end));
    }

    private static void Path(byte[][] leaves, int index, int start, int end, List<string> path)
    {
        var n = end - start;
        if (n <= 1)
            return;
        var k = SplitPoint(n);
        if (index - start < k)
        {
            Path(leaves, index, start, start + k, path);
            path.Add(Convert.ToHexStringLower(Root(leaves, start + k, end)));
        }
        else
        {
            Path(leaves, index, start + k, end, path);
            path.Add(Convert.ToHexStringLower(Root(leaves, start, start + k)));
        }
    }

    /// <summary>The largest power of two strictly below <paramref name="n"/> (n ≥ 2).</summary>
    private static int SplitPoint(int n)
    {
        var k = 1;
        while (k << 1 < n)
            k <<= 1;
        return k;
    }

    private static bool TryHex(string? hex, out byte[] bytes)
    {
        bytes = [];
        if (hex is not { Length: 64 })
            return false;
        try
        {
            bytes = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static JsonArray Strings(IReadOnlyList<string> values)
    {
        var array = new JsonArray();
        foreach (var value in values)
            array.Add(value);
        return array;
    }

    /// <summary>Scores as written everywhere: <c>[{"option": name, "score": n}, …]</c>, in the order given.</summary>
    internal static JsonArray ScoreObject(IReadOnlyList<OptionScore> scores)
    {
        var json = new JsonArray();
        foreach (var score in scores)
            json.Add(new JsonObject { ["option"] = score.Option, ["score"] = score.Score });
        return json;
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Unsigned lexicographic byte order.</summary>
    internal sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}

