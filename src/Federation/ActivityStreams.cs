namespace Fellows.Federation;

/// <summary>Well-known ActivityStreams and related constants.</summary>
public static class ActivityStreams
{
    /// <summary>The ActivityStreams 2.0 JSON-LD context.</summary>
    public const string Context = "https://www.w3.org/ns/activitystreams";

    /// <summary>The special collection addressing everyone.</summary>
    public const string Public = "https://www.w3.org/ns/activitystreams#Public";

    /// <summary>The media type servers use for ActivityStreams documents.</summary>
    public const string ActivityJson = "application/activity+json";

    /// <summary>The JSON-LD media type with the ActivityStreams profile.</summary>
    public const string LdJson = "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
}
