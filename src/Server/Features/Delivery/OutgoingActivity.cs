namespace Fellows.Server.Features.Delivery;

/// <summary>
/// An activity a local actor sends, with who should get it. Recipients are described, not resolved: the fan-out
/// worker turns them into inboxes after the transaction commits, so the caller's transaction stays short.
/// Local recipients are not listed here; the caller applies the activity to them directly.
/// </summary>
public sealed record OutgoingActivity
{
    /// <summary>The activity's <c>id</c>; unique, so the same activity is never queued twice.</summary>
    public required string ActivityId { get; init; }

    /// <summary>The local account the activity is sent as (its key signs the deliveries).</summary>
    public required long ActorAccountId { get; init; }

    /// <summary>The serialized activity, sent byte for byte to every inbox.</summary>
    public required string Body { get; init; }

    /// <summary>Deliver to the remote followers of these accounts (usually just the actor).</summary>
    public IReadOnlyList<long> ToFollowersOf { get; init; } = [];

    /// <summary>Deliver to these actors (mentions, direct addressing, the target of a Follow).</summary>
    public IReadOnlyList<string> ToActorUris { get; init; } = [];

    /// <summary>Deliver to these inboxes as given (e.g. a relay, or the inbox an Accept answers).</summary>
    public IReadOnlyList<string> ToInboxes { get; init; } = [];
}
