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

    /// <summary>
    /// "Secure mode": ActivityPub documents are served only to signed requests (the instance actor and a key-only
    /// view of each actor excepted), so a suspended domain or a blocked member cannot read them anonymously.
    /// </summary>
    public bool AuthorizedFetch { get; set; }

    /// <summary>Where the embedded PostgreSQL cluster and uploaded files live.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The co-op's name, shown in NodeInfo and the instance API.</summary>
    public string Name { get; set; } = "Fellows";

    public string Description { get; set; } = "A Fellows server for a co-operative.";

    /// <summary>
    /// The username of the co-op's Group actor (FEP-1b12), whose members are this instance's approved members and
    /// which vouches for them to allied co-ops; its display name is <see cref="Name"/>.
    /// </summary>
    [RegularExpression("^[A-Za-z0-9_]{1,30}$")]
    public string CoopGroup { get; set; } = "coop";

    /// <summary>
    /// Sign-up through the API: <c>open</c> (anyone), <c>approval</c> (an admin approves each applicant; the default,
    /// since co-ops admit members) or <c>closed</c>.
    /// </summary>
    [RegularExpression("^(open|approval|closed)$")]
    public string Registrations { get; set; } = "approval";

    /// <summary>Anyone may sign up, with or without approval.</summary>
    public bool OpenRegistrations => Registrations is "open" or "approval";

    /// <summary>New members wait for an admin before they can sign in.</summary>
    public bool ApprovalRequired => Registrations == "approval";

    public string ContactEmail { get; set; } = "";

    /// <summary>The co-op's rules, shown to clients in order (<c>Instance:Rules:0</c>, <c>Instance:Rules:1</c>, …).</summary>
    public List<string> Rules { get; set; } = [];

    /// <summary>The base URL, e.g. <c>https://coop.example</c>, with no trailing slash.</summary>
    public string BaseUrl => $"{Scheme}://{Domain}";

    /// <summary>The host part of <see cref="Domain"/> without a port, lower-cased.</summary>
    public string Host => Domain.ToLowerInvariant();

    public string DataDirectoryFullPath => Path.GetFullPath(DataDirectory);
}
