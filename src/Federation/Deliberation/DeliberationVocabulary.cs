using System.Text.Json.Nodes;

namespace Fellows.Federation.Deliberation;

/// <summary>The phase a motion is in.</summary>
public enum MotionPhase
{
    Draft,
    Discussion,
    Voting,
    Closed,
    Withdrawn,
}

/// <summary>Where an amendment stands.</summary>
public enum AmendmentState
{
    /// <summary>Proposed, waiting for the author.</summary>
    Proposed,

    /// <summary>The author took it into the text.</summary>
    Accepted,

    /// <summary>The author declined it.</summary>
    Declined,

    /// <summary>The author declined and it went to a vote of its own.</summary>
    Voting,
}

/// <summary>
/// The Fellows deliberation vocabulary: its namespace, the JSON-LD context every instance serves at
/// <see cref="ContextPath"/>, and the written form of every enumerated value.
/// </summary>
/// <remarks>
/// The term IRIs live under one namespace, <see cref="Namespace"/>, whichever instance serves the context,
/// so documents from any instance expand to the same IRIs. The context is a static file embedded in this
/// assembly; every instance serves the same bytes.
/// </remarks>
public static class DeliberationVocabulary
{
    /// <summary>The namespace of Fellows terms (prefix <c>fellows:</c>).</summary>
    public const string Namespace = "https://w3id.org/fellows/ns#";

    /// <summary>The path every instance serves the context at, e.g. <c>https://coop.example/ns/fellows</c>.</summary>
    public const string ContextPath = "/ns/fellows";

    /// <summary>The media type the context is served as.</summary>
    public const string ContextMediaType = "application/ld+json";

    /// <summary>ValueFlows, for commitments (prefix <c>vf:</c>).</summary>
    public const string ValueFlowsNamespace = "https://w3id.org/valueflows/ont/vf#";

    /// <summary>The Data Integrity context, for the <c>proof</c> of stances (FEP-8b32).</summary>
    public const string DataIntegrityContext = "https://w3id.org/security/data-integrity/v2";

    /// <summary>The compact type of a motion, given beside <c>Question</c>.</summary>
    public const string MotionType = "fellows:Motion";

    /// <summary>The compact type of a stance, given beside <c>Note</c>.</summary>
    public const string StanceType = "fellows:Stance";

    /// <summary>The compact type of a tally.</summary>
    public const string TallyType = "fellows:Tally";

    /// <summary>The compact type of an outcome, given beside <c>Note</c>.</summary>
    public const string OutcomeType = "fellows:Outcome";

    /// <summary>The compact type of an amendment, given beside <c>Note</c>.</summary>
    public const string AmendmentType = "fellows:Amendment";

    /// <summary>The compact type of a position on an amendment put to consent, given beside <c>Note</c>.</summary>
    public const string AmendmentPositionType = "fellows:AmendmentPosition";

    /// <summary>The compact type of a commitment (ValueFlows).</summary>
    public const string CommitmentType = "vf:Commitment";

    private const string ResourceName = "Fellows.Federation.Deliberation.fellows-context.jsonld";

    private static readonly Lazy<byte[]> ContextBytes = new(LoadContext);

    /// <summary>The JSON-LD context document, as served (UTF-8).</summary>
    public static ReadOnlyMemory<byte> ContextDocument => ContextBytes.Value;

    /// <summary>The context's address on the instance at <paramref name="baseUrl"/> (scheme and host, no trailing slash).</summary>
    public static string ContextUrl(string baseUrl) => baseUrl.TrimEnd('/') + ContextPath;

    /// <summary>
    /// The <c>@context</c> of a deliberation document: ActivityStreams, Data Integrity (for stance proofs), and
    /// the Fellows context at <paramref name="contextUrl"/>.
    /// </summary>
    public static JsonArray DocumentContext(string contextUrl) =>
        [ActivityStreams.Context, DataIntegrityContext, contextUrl];

    public static string Name(DecisionMethod method) => method switch
    {
        DecisionMethod.Consent => "consent",
        DecisionMethod.Majority => "majority",
        DecisionMethod.Approval => "approval",
        DecisionMethod.RankedChoice => "ranked-choice",
        DecisionMethod.Score => "score",
        _ => throw new ArgumentOutOfRangeException(nameof(method)),
    };

    public static string Name(Threshold threshold) => threshold switch
    {
        Threshold.Plurality => "plurality",
        Threshold.SimpleMajority => "simple-majority",
        Threshold.TwoThirds => "two-thirds",
        Threshold.Unanimity => "unanimity",
        _ => throw new ArgumentOutOfRangeException(nameof(threshold)),
    };

    public static string Name(OutcomeState state) => state switch
    {
        OutcomeState.Passed => "passed",
        OutcomeState.Rejected => "rejected",
        OutcomeState.Blocked => "blocked",
        OutcomeState.NoQuorum => "no-quorum",
        OutcomeState.Tie => "tie",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static string Name(CountingMode mode) => mode switch
    {
        CountingMode.Pooled => "pooled",
        CountingMode.CoopByCoop => "coop-by-coop",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    public static string Name(MotionPhase phase) => phase switch
    {
        MotionPhase.Draft => "draft",
        MotionPhase.Discussion => "discussion",
        MotionPhase.Voting => "voting",
        MotionPhase.Closed => "closed",
        MotionPhase.Withdrawn => "withdrawn",
        _ => throw new ArgumentOutOfRangeException(nameof(phase)),
    };

    public static string Name(TieBreak tieBreak) => tieBreak switch
    {
        TieBreak.None => "none",
        TieBreak.EarlierRounds => "earlier-rounds",
        TieBreak.SeededHash => "seeded-hash",
        _ => throw new ArgumentOutOfRangeException(nameof(tieBreak)),
    };

    public static string Name(AmendmentState state) => state switch
    {
        AmendmentState.Proposed => "proposed",
        AmendmentState.Accepted => "accepted",
        AmendmentState.Declined => "declined",
        AmendmentState.Voting => "voting",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    /// <summary>Reads a written value back; null when unknown (tolerant readers treat that as absent).</summary>
    public static T? Parse<T>(string? name)
        where T : struct, Enum
    {
        if (name is null)
            return null;
        foreach (var value in Enum.GetValues<T>())
        {
            if (string.Equals(NameOf(value), name, StringComparison.Ordinal))
                return value;
        }

        return null;
    }

    private static string NameOf<T>(T value)
        where T : struct, Enum => value switch
        {
            DecisionMethod v => Name(v),
            Threshold v => Name(v),
            OutcomeState v => Name(v),
            CountingMode v => Name(v),
            MotionPhase v => Name(v),
            TieBreak v => Name(v),
            AmendmentState v => Name(v),
            _ => throw new ArgumentOutOfRangeException(nameof(value)),
        };

    private static byte[] LoadContext()
    {
        using var stream = typeof(DeliberationVocabulary).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
