using System.ComponentModel.DataAnnotations;

namespace Fellows.Server.Configuration;

/// <summary>The <c>Instance</c> section: who this server is on the network and where it keeps its files.</summary>
public sealed class InstanceOptions
{
    public const string Section = "Instance";

    /// <summary>Public host, with port when not the default (e.g. <c>coop.example</c> or <c>127.0.0.1:8181</c>).</summary>
    [Required]
    public string Domain { get; set; } = "localhost:5000";

    /// <summary><c>https</c> in production; <c>http</c> only for development and tests.</summary>
    [RegularExpression("^https?$")]
    public string Scheme { get; set; } = "https";

    /// <summary>When false (the default) the server never fetches from or delivers to non-public addresses.</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Where the embedded PostgreSQL cluster and uploaded files live.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The co-op's name, shown in NodeInfo and the instance API.</summary>
    public string Name { get; set; } = "Fellows";

    public string Description { get; set; } = "A Fellows server for a co-operative.";

    /// <summary>Co-ops admit members: open sign-up is off unless the co-op says otherwise.</summary>
    public bool OpenRegistrations { get; set; }

    public string ContactEmail { get; set; } = "";

    /// <summary>The co-op's rules, shown to clients in order (<c>Instance:Rules:0</c>, <c>Instance:Rules:1</c>, …).</summary>
    public List<string> Rules { get; set; } = [];

    /// <summary>The base URL, e.g. <c>https://coop.example</c>, with no trailing slash.</summary>
    public string BaseUrl => $"{Scheme}://{Domain}";

    /// <summary>The host part of <see cref="Domain"/> without a port, lower-cased.</summary>
    public string Host => Domain.ToLowerInvariant();

    public string DataDirectoryFullPath => Path.GetFullPath(DataDirectory);
}
