namespace Fellows.Federation.Tests.Signatures;

/// <summary>A clock stuck at one instant; enough for signing tests without another package.</summary>
internal sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
