using Fellows.Federation.Deliberation;

namespace Fellows.Federation.Tests.Deliberation;

/// <summary>Builds motions, electorates and stances for counting tests.</summary>
internal static class Votes
{
    public const string Motion = "https://a.example/motions/1";
    public const string CoopA = "https://a.example/coop";
    public const string CoopB = "https://b.example/coop";
    public const string CoopC = "https://c.example/coop";

    public static readonly DateTimeOffset Opens = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset Closes = new(2026, 3, 8, 9, 0, 0, TimeSpan.Zero);

    public static MotionRules Rules(DecisionMethod method, params string[] options) => new()
    {
        MotionId = Motion,
        Method = method,
        Options = options,
        ClosesAt = Closes,
    };

    public static string Voter(int n, string coop = CoopA) => $"{coop[..coop.IndexOf("/coop", StringComparison.Ordinal)]}/users/v{n}";

    /// <summary>Voters v1..vN of co-op A.</summary>
    public static Electorate Electorate(int count) => Fellows.Federation.Deliberation.Electorate.Single(CoopA, Enumerable.Range(1, count).Select(n => Voter(n)));

    /// <summary>Members per co-op: (A, a), (B, b), (C, c) voters each.</summary>
    public static Electorate Coops(int a, int b, int c = 0) => Fellows.Federation.Deliberation.Electorate.FromMembers(
        Enumerable.Range(1, a).Select(n => (Voter(n, CoopA), CoopA))
            .Concat(Enumerable.Range(1, b).Select(n => (Voter(n, CoopB), CoopB)))
            .Concat(Enumerable.Range(1, c).Select(n => (Voter(n, CoopC), CoopC))));

    private static int _sequence;

    /// <summary>A stance by voter <paramref name="voter"/> (an actor id or a number in co-op A).</summary>
    public static Stance By(object voter, params string[] choices)
    {
        var actor = voter as string ?? Voter((int)voter);
        var n = Interlocked.Increment(ref _sequence);
        return new Stance
        {
            Id = $"{actor}/stances/{n:D6}",
            Voter = actor,
            InReplyTo = Motion,
            Published = Opens.AddMinutes(n % 1000),
            Choices = choices,
            ProofValue = "z" + n.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    public static Stance Abstaining(object voter) => By(voter) with { Abstain = true };

    public static Stance Scoring(object voter, params (string Option, int Score)[] scores) =>
        By(voter) with { Scores = scores.Select(s => new OptionScore(s.Option, s.Score)).ToArray() };

    /// <summary><paramref name="count"/> stances choosing <paramref name="choices"/>, from voters starting at <paramref name="first"/>.</summary>
    public static IEnumerable<Stance> Many(int first, int count, params string[] choices) =>
        Enumerable.Range(first, count).Select(n => By(n, choices));

    public static long CountOf(this TallyResult tally, string option) => tally.Counts.Single(c => c.Option == option).Count;
}
