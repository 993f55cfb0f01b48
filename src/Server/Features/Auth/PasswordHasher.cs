using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace Fellows.Server.Features.Auth;

/// <summary>Argon2id password hashes in the PHC string format (<c>$argon2id$v=19$m=…,t=…,p=1$salt$hash</c>).</summary>
public static class PasswordHasher
{
    // OWASP's minimum for Argon2id: 19 MiB, two passes, one lane.
    const int MemoryKiB = 19 * 1024;
    const int Passes = 2;
    const int HashBytes = 32;

    public static string Hash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Derive(password, salt, MemoryKiB, Passes);
        return string.Create(CultureInfo.InvariantCulture,
            $"$argon2id$v=19$m={MemoryKiB},t={Passes},p=1${B64(salt)}${B64(hash)}");
    }

    public static bool Verify(string password, string phc)
    {
        var parts = phc.Split('$');
        if (parts.Length != 6 || parts[1] != "argon2id") return false;
        int memory = 0, passes = 0;
        foreach (var kv in parts[3].Split(','))
        {
            var pair = kv.Split('=');
            if (pair.Length != 2 || !int.TryParse(pair[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return false;
            if (pair[0] == "m") memory = value;
            else if (pair[0] == "t") passes = value;
        }
        if (memory is < 8 or > 1024 * 1024 || passes is < 1 or > 16) return false;
        byte[] salt, expected;
        try
        {
            salt = Unb64(parts[4]);
            expected = Unb64(parts[5]);
        }
        catch (FormatException) { return false; }
        if (salt.Length != 16 || expected.Length != HashBytes) return false;
        var actual = Derive(password, salt, memory, passes);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    static byte[] Derive(string password, byte[] salt, int memoryKiB, int passes)
    {
        var algorithm = PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters
        {
            DegreeOfParallelism = 1,
            MemorySize = memoryKiB,
            NumberOfPasses = passes,
        });
        return algorithm.DeriveBytes(Encoding.UTF8.GetBytes(password), salt, HashBytes);
    }

    static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    static byte[] Unb64(string s) => Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
}
