namespace Fellows.Federation.Vocabulary;

/// <summary>An image we publish (avatar, header), with its media type when known.</summary>
public sealed record ImageRef(string Url, string? MediaType = null);

/// <summary>A FEP-521a key we publish under <c>assertionMethod</c>; the controller is always the actor itself.</summary>
public sealed record LocalMultikey(string Id, string PublicKeyMultibase);

/// <summary>One of our actors, as plain values, ready for <see cref="ActivityPubWriter.Actor"/>.</summary>
public sealed record LocalActor
{
    public required string Id { get; init; }

    /// <summary>Person for members, Group for co-operatives, Application for the instance actor.</summary>
    public required string Type { get; init; }

    public required string PreferredUsername { get; init; }
    public string? Name { get; init; }

    /// <summary>The bio, already rendered to safe HTML.</summary>
    public string? SummaryHtml { get; init; }

    public string? Url { get; init; }
    public required string Inbox { get; init; }
    public required string Outbox { get; init; }
    public string? Followers { get; init; }
    public string? Following { get; init; }
    public string? Featured { get; init; }
    public string? FeaturedTags { get; init; }
    public string? SharedInbox { get; init; }
    public bool ManuallyApprovesFollowers { get; init; }
    public bool Discoverable { get; init; }
    public bool Indexable { get; init; }
    public DateTimeOffset? Published { get; init; }
    public ImageRef? Icon { get; init; }
    public ImageRef? Image { get; init; }
    public IReadOnlyList<string> AlsoKnownAs { get; init; } = [];
    public string? MovedTo { get; init; }

    /// <summary>The RSA public key in PEM, for draft-cavage HTTP signatures.</summary>
    public required string PublicKeyPem { get; init; }

    /// <summary>The key id; defaults to <c>{Id}#main-key</c>, the fragment Mastodon uses and other servers expect.</summary>
    public string? PublicKeyId { get; init; }

    public IReadOnlyList<LocalMultikey> Multikeys { get; init; } = [];
    public IReadOnlyList<ProfileField> Fields { get; init; } = [];
    public IReadOnlyList<CustomEmoji> Emoji { get; init; } = [];
}

/// <summary>One of our posts, ready for <see cref="ActivityPubWriter.Note"/>.</summary>
public sealed record LocalNote
{
    public required string Id { get; init; }

    /// <summary>Note by default; Article or Question for other kinds.</summary>
    public string Type { get; init; } = "Note";

    public required string AttributedTo { get; init; }

    /// <summary>The body, already rendered to safe HTML.</summary>
    public required string ContentHtml { get; init; }

    /// <summary>The BCP 47 language of the body; when set, <c>contentMap</c> is written beside <c>content</c>.</summary>
    public string? Language { get; init; }

    /// <summary>The content warning, written as <c>summary</c>.</summary>
    public string? Summary { get; init; }

    public bool Sensitive { get; init; }
    public string? InReplyTo { get; init; }
    public required DateTimeOffset Published { get; init; }
    public DateTimeOffset? Updated { get; init; }
    public string? Url { get; init; }
    public IReadOnlyList<string> To { get; init; } = [];
    public IReadOnlyList<string> Cc { get; init; } = [];

    /// <summary>FEP-1b12 audience, for a post made in a group.</summary>
    public string? Audience { get; init; }

    /// <summary>The thread the post belongs to.</summary>
    public string? Context { get; init; }

    public IReadOnlyList<MentionTag> Mentions { get; init; } = [];
    public IReadOnlyList<HashtagTag> Hashtags { get; init; } = [];
    public IReadOnlyList<CustomEmoji> Emoji { get; init; } = [];
    public IReadOnlyList<MediaAttachment> Attachments { get; init; } = [];

    /// <summary>The id of the replies collection; a link only, so the note stays small.</summary>
    public string? Replies { get; init; }

    /// <summary>The poll, written when <see cref="Type"/> is <c>Question</c>.</summary>
    public LocalPoll? Poll { get; init; }
}

/// <summary>
/// The poll of a <c>Question</c>, as Mastodon writes it: options as <c>oneOf</c> (single choice) or <c>anyOf</c>
/// (several), each with <c>replies.totalItems</c> as its count when counts are shown.
/// </summary>
/// <param name="Options">The choices in order; a null count is left out (totals hidden until the close).</param>
/// <param name="Multiple">True for <c>anyOf</c>.</param>
/// <param name="EndTime">When voting ends.</param>
/// <param name="ClosedAt">When it closed, once it has.</param>
/// <param name="VotersCount">Distinct voters.</param>
public sealed record LocalPoll(IReadOnlyList<PollOption> Options, bool Multiple, DateTimeOffset? EndTime, DateTimeOffset? ClosedAt, long VotersCount);

/// <summary>A page of an ordered collection, ready for <see cref="ActivityPubWriter.OrderedCollectionPage"/>.</summary>
public sealed record LocalCollectionPage
{
    public required string Id { get; init; }
    public required string PartOf { get; init; }

    /// <summary>The items: ids (strings) or embedded documents.</summary>
    public required IReadOnlyList<System.Text.Json.Nodes.JsonNode> OrderedItems { get; init; }

    public string? Next { get; init; }
    public string? Prev { get; init; }
    public long? TotalItems { get; init; }
}
