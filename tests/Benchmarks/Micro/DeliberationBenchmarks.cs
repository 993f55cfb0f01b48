using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Fellows.Federation.Deliberation;
using Fellows.Federation.Proofs;
using Fellows.Federation.Signatures;

namespace Fellows.Benchmarks.Micro;

/// <summary>
/// The deliberation protocol core at the size issue 4 asks about: 10,000 eligible members in 20 co-ops, every one of
/// them taking a stance. Counting each method (pooled and co-op by co-op), the tally digest (a Merkle tree over the
/// counted ballots, public and secret) and verifying 10,000 FEP-8b32 stance proofs. The baseline is SHA-256 over
/// the 10,000 signed stance documents as they arrive on the wire (about 7 MB), so each ratio says how many times
/// that plain hashing pass the work costs.
/// </summary>
[MemoryDiagnoser]
public class DeliberationBenchmarks
{
    public const int Coops = 20;
    public const int MembersPerCoop = 500;
    const string Motion = "https://a.example/motions/1";
    static readonly string[] Options = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];
    static readonly DateTimeOffset Closes = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    Electorate _electorate = null!;
    readonly Dictionary<string, Stance[]> _stances = new(StringComparer.Ordinal);
    IReadOnlyList<Ballot> _publicBallots = null!;
    IReadOnlyList<Ballot> _secretBallots = null!;
    Stance[] _secretStances = null!;
    byte[][] _wire = null!;
    JsonDocument[] _signed = null!;
    Dictionary<string, VerificationKey> _keys = null!;
    ActorKeyPair[] _pairs = null!;

    static string Coop(int c) => $"https://coop{c:D2}.example/groups/coop";
    static string Voter(int c, int m) => $"https://coop{c:D2}.example/users/m{m:D3}";

    [GlobalSetup]
    public void Setup()
    {
        var members = new List<(string, string)>();
        for (var c = 0; c < Coops; c++)
            for (var m = 0; m < MembersPerCoop; m++)
                members.Add((Voter(c, m), Coop(c)));
        _electorate = Electorate.FromMembers(members);

        foreach (var method in Enum.GetValues<DecisionMethod>())
            _stances[method.ToString()] = MakeStances(method, secret: false);
        _secretStances = MakeStances(DecisionMethod.Majority, secret: true);

        _publicBallots = Tally.Count(Rules(DecisionMethod.Majority, CountingMode.Pooled), _electorate, _stances["Majority"]).Ballots;
        _secretBallots = Tally.Count(Rules(DecisionMethod.Majority, CountingMode.Pooled, secret: true), _electorate, _secretStances).Ballots;
        if (_publicBallots.Count != Coops * MembersPerCoop || _secretBallots.Count != Coops * MembersPerCoop)
            throw new InvalidOperationException("Set-up stances were not all counted; the benchmark would measure rejections.");
        var rounds = Tally.Count(Rules(DecisionMethod.RankedChoice, CountingMode.Pooled), _electorate, _stances["RankedChoice"]).Rounds.Count;
        if (rounds < 3)
            throw new InvalidOperationException($"Ranked choice needed only {rounds} round(s); the set-up should force eliminations.");

        // 10,000 signed stance documents, one Ed25519 key per co-op member's home server (20 keys, one key id each
        // member: the resolver is a dictionary lookup, so key fetching is not part of this figure).
        _pairs = Enumerable.Range(0, Coops).Select(_ => ActorKeyPair.GenerateEd25519()).ToArray();
        _keys = new Dictionary<string, VerificationKey>(StringComparer.Ordinal);
        var signing = _pairs.Select((p, c) => p.ToSigningKey($"https://coop{c:D2}.example/key")).ToArray();
        _wire = new byte[Coops * MembersPerCoop][];
        var i = 0;
        foreach (var stance in _stances["Majority"])
        {
            var c = i / MembersPerCoop;
            var keyId = stance.Voter + "#ed25519-key";
            _keys[keyId] = _pairs[c].ToVerificationKey(keyId, stance.Voter);
            var json = DeliberationWriter.Stance(new LocalStance
            {
                Id = stance.Id, AttributedTo = stance.Voter, InReplyTo = Motion, Published = stance.Published,
                To = ["https://a.example/users/author"], Choices = stance.Choices, Coop = Coop(c),
                ReasonHtml = "<p>Because it is the most sustainable of the options.</p>",
            }, "https://a.example/ns/fellows");
            _wire[i++] = Encoding.UTF8.GetBytes(IntegrityProof.Sign(json, signing[c], keyId, stance.Published).ToJsonString());
        }

        foreach (var key in signing)
            key.Dispose();
        _signed = _wire.Select(b => JsonDocument.Parse(b)).ToArray();
        if (VerifyStanceProofs() != _wire.Length)
            throw new InvalidOperationException("Set-up proofs do not all verify.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var doc in _signed)
            doc.Dispose();
        foreach (var key in _keys.Values)
            key.Dispose();
        foreach (var pair in _pairs)
            pair.Dispose();
    }

    static MotionRules Rules(DecisionMethod method, CountingMode mode, bool secret = false) => new()
    {
        MotionId = Motion,
        Method = method,
        Options = method == DecisionMethod.Consent ? [] : Options,
        Threshold = method == DecisionMethod.Score ? Threshold.Plurality : Threshold.SimpleMajority,
        Quorum = Quorum.Fraction(1, 2),
        CoopQuorum = mode == CountingMode.CoopByCoop ? Quorum.Fraction(1, 3) : null,
        Mode = mode,
        ClosesAt = Closes,
        SecretBallot = secret,
        ScoreMin = 0,
        ScoreMax = 5,
    };

    /// <summary>Deterministic, skewed choices so counts differ per option and ranked choice needs several rounds.</summary>
    static Stance[] MakeStances(DecisionMethod method, bool secret)
    {
        var random = new Random(4);
        var list = new Stance[Coops * MembersPerCoop];
        var i = 0;
        for (var c = 0; c < Coops; c++)
            for (var m = 0; m < MembersPerCoop; m++)
            {
                var voter = Voter(c, m);
                // Option weights 22/20/18/16/13/11 %: no first-round majority, eliminations from the tail.
                var first = Pick(random);
                IReadOnlyList<string> choices;
                IReadOnlyList<OptionScore> scores = [];
                switch (method)
                {
                    case DecisionMethod.Consent:
                        var p = random.Next(100);
                        choices = [p < 60 ? ConsentPositions.Agree : p < 75 ? ConsentPositions.Abstain : ConsentPositions.Disagree];
                        break;
                    case DecisionMethod.Approval:
                        choices = Options.Where(o => o == first || random.Next(4) == 0).ToArray();
                        break;
                    case DecisionMethod.RankedChoice:
                        choices = [first, .. Options.Where(o => o != first).OrderBy(_ => random.Next()).Take(random.Next(1, 5))];
                        break;
                    case DecisionMethod.Score:
                        choices = [];
                        scores = Options.Select(o => new OptionScore(o, o == first ? 5 : random.Next(0, 5))).ToArray();
                        break;
                    default:
                        choices = [first];
                        break;
                }

                var id = $"https://coop{c:D2}.example/stances/{m:D3}";
                list[i++] = new Stance
                {
                    Id = id,
                    Voter = voter,
                    InReplyTo = Motion,
                    Published = Closes.AddHours(-1).AddSeconds(-i),
                    Choices = choices,
                    Scores = scores,
                    Receipt = secret ? TallyDigest.Receipt(Motion, SHA256.HashData(Encoding.UTF8.GetBytes(id)), choices) : null,
                };
            }

        return list;
    }

    static string Pick(Random random)
    {
        var r = random.Next(100);
        return r < 22 ? Options[0] : r < 42 ? Options[1] : r < 60 ? Options[2] : r < 76 ? Options[3] : r < 89 ? Options[4] : Options[5];
    }

    /// <summary>Baseline: SHA-256 of the 10,000 signed stances as they arrive (one pass over the bytes).</summary>
    [Benchmark(Baseline = true)]
    public int Sha256OfSignedStances()
    {
        var total = 0;
        Span<byte> hash = stackalloc byte[32];
        foreach (var bytes in _wire)
            total += SHA256.HashData(bytes, hash);
        return total;
    }

    // One method per case rather than [Arguments]: BenchmarkDotNet computes ratios only within a parameter group,
    // and every figure here is reported against the one baseline.
    [Benchmark] public int CountConsent() => Pooled(DecisionMethod.Consent);
    [Benchmark] public int CountMajority() => Pooled(DecisionMethod.Majority);
    [Benchmark] public int CountApproval() => Pooled(DecisionMethod.Approval);
    [Benchmark] public int CountRankedChoice() => Pooled(DecisionMethod.RankedChoice);
    [Benchmark] public int CountScore() => Pooled(DecisionMethod.Score);
    [Benchmark] public int CountConsentCoopByCoop() => CoopByCoop(DecisionMethod.Consent);
    [Benchmark] public int CountMajorityCoopByCoop() => CoopByCoop(DecisionMethod.Majority);
    [Benchmark] public int CountRankedChoiceCoopByCoop() => CoopByCoop(DecisionMethod.RankedChoice);

    int Pooled(DecisionMethod method) =>
        Tally.Count(Rules(method, CountingMode.Pooled), _electorate, _stances[method.ToString()]).Cast;

    int CoopByCoop(DecisionMethod method) =>
        Tally.Count(Rules(method, CountingMode.CoopByCoop), _electorate, _stances[method.ToString()]).CoopVoices;

    /// <summary>Merkle digest over the 10,000 counted public ballots (stance id, voter, choice, proof value).</summary>
    [Benchmark]
    public string DigestPublicBallots() => TallyDigest.Compute(_publicBallots);

    /// <summary>Merkle digest over 10,000 secret ballots (receipts).</summary>
    [Benchmark]
    public string DigestSecretReceipts() => TallyDigest.Compute(_secretBallots);

    /// <summary>Parse each received stance and verify its eddsa-jcs-2022 proof against the voter's key.</summary>
    [Benchmark]
    public int VerifyStanceProofs()
    {
        var ok = 0;
        foreach (var doc in _signed)
        {
            var root = doc.RootElement;
            var voter = root.GetProperty("attributedTo").GetString()!;
            if (IntegrityProof.Verify(root, id => _keys.GetValueOrDefault(id)).VouchesFor(voter))
                ok++;
        }

        return ok;
    }
}
