using Fellows.Server.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fellows.Server.Features.Delivery;

public static class DeliveryRegistration
{
    /// <summary>
    /// The outbound queue: outbox writer, fan-out and delivery workers, the notification listener, and the default
    /// (replaceable) seams. Seams are registered with TryAdd so a test or the federation layer registered earlier wins.
    /// </summary>
    public static IServiceCollection AddDelivery(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DeliveryOptions>()
            .Bind(configuration.GetSection(DeliveryOptions.Section))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DeliveryOptions>, DeliveryOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.AddSingleton<OutboxWriter>();
        services.AddSingleton<DeliverySignals>();
        services.AddSingleton<FanOut>();
        services.AddSingleton<DeliveryProcessor>();
        services.TryAddSingleton<IActorInboxResolver, DatabaseActorInboxResolver>();
        services.TryAddSingleton<ISignatureSchemeStore, SignatureSchemeStore>();

        // The unsigned placeholder sender; the signed ActivityPub client replaces this registration.
        services.AddHttpClient(HttpDeliverySender.HttpClientName, (sp, http) =>
        {
            http.Timeout = sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.RequestTimeout;
            http.DefaultRequestHeaders.UserAgent.ParseAdd($"Fellows (+{sp.GetRequiredService<InstanceUrls>().Base})");
        }).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
        {
            // No redirects for inbox POSTs, and DNS changes noticed within minutes for long-lived pools.
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        });
        services.TryAddSingleton<IDeliverySender>(sp => new HttpDeliverySender(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpDeliverySender.HttpClientName),
            sp.GetRequiredService<TimeProvider>()));

        services.AddHostedService<NotificationListener>();
        services.AddHostedService<FanOutWorker>();
        services.AddHostedService<DeliveryWorker>();
        return services;
    }
}
