using NUnit.Framework;

namespace Fellows.Federation.Tests;

public class SmokeTests
{
    [Test]
    public void Context_is_activitystreams() =>
        Assert.That(ActivityStreams.Context, Is.EqualTo("https://www.w3.org/ns/activitystreams"));
}
