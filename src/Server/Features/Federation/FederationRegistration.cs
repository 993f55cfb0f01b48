using Fellows.Federation.Http;
using Fellows.Server.Configuration;
using Fellows.Server.Features.ActivityPub;
using Fellows.Server.Features.Delivery;
using Fellows.Server.Features.Inbox;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fellows.Server.Features.Federation;

public static class FederationRegistration
{
    /// <summary>The protocol client (SSRF-filtered, signed, Polly-guarded), remote actors, inbox and outbound publishing.</summary>
    public static IServiceCollection AddFederation(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var instance = sp.GetRequiredService<IOptions<InstanceOptions>>().Value;
            return new FederationHttpOptions
            {
                Domain = instance.Domain,
                Version = FellowsVersion.Current,
                AllowPrivateNetworks = instance.AllowPrivateNetworks,
            };
        });
        services.AddSingleton<StoredSignatureSchemes>();
        services.AddSingleton<ISignatureSchemePreferences>(sp => sp.GetRequiredService<StoredSignatureSchemes>());
        services.AddHostedService(sp => sp.GetRequiredService<StoredSignatureSchemes>());
        // Network timeouts and circuit breaks run on the wall clock, never on the injectable clock that drives
        // deadlines: a test (or a replay) that stops time must not also stop every timeout.
        services.AddSingleton(sp => new ActivityPubClient(
            FederationHttp.CreateClient(sp.GetRequiredService<FederationHttpOptions>()),
            sp.GetRequiredService<FederationHttpOptions>(),
            TimeProvider.System,
            sp.GetRequiredService<ISignatureSchemePreferences>()));
        services.AddSingleton(sp =>
        {
            var scheme = sp.GetRequiredService<IOptions<InstanceOptions>>().Value.Scheme;
            return new WebFingerClient(sp.GetRequiredService<ActivityPubClient>(), _ => scheme);
        });
        services.AddSingleton<RemoteActors>();
        services.AddSingleton<RequestSignatures>();
        services.AddSingleton<MemberSigners>();
        services.AddSingleton<ActivityPub.FetchAuthorization>();
        services.TryAddSingleton<Jobs.IRemoteActorRefresher>(sp => sp.GetRequiredService<RemoteActors>());
        services.AddSingleton<MentionResolver>();
        services.AddSingleton<NoteBuilder>();
        services.AddSingleton<OutboundPublisher>();
        services.AddSingleton<ActorDocuments>();
        services.AddSingleton<IDeliverySender, SignedDeliverySender>();
        services.AddSingleton<InboxProcessor>();
        services.AddSingleton<InboxSignals>();
        services.AddSingleton<InboxWriter>();
        services.AddSingleton<InboxTargets>();
        services.AddHostedService<InboxWorker>();
        return services;
    }
}
