using System.Text.Json;
using Fellows.Federation.Json;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Vocabulary;

/// <summary>Loads fixtures through the same bounded parser the inbox uses.</summary>
internal static class Fixture
{
    public static string Path(string name) =>
        System.IO.Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", name);

    public static JsonDocument Load(string name)
    {
        var result = JsonLimits.Parse(File.ReadAllBytes(Path(name)));
        Assert.That(result.IsSuccess, Is.True, result.Error);
        return result.Document!;
    }

    public static IEnumerable<string> All() =>
        Directory.EnumerateFiles(System.IO.Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures"), "*.json", SearchOption.AllDirectories);
}
