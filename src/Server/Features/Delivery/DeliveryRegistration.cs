using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fellows.Server.Features.Delivery;

public static class DeliveryRegistration
{
    /// <summary>
    /// The outbound queue: outbox writer, fan-out and delivery workers, the notification listener, and the default
    /// (replaceable) seams. Seams are registered with TryAdd so a test or the federation layer registered earlier wins.
    /// The <see cref="IDeliverySender"/> itself comes from the federation layer (signed ActivityPub client).
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

        services.AddHostedService<NotificationListener>();
        services.AddHostedService<FanOutWorker>();
        services.AddHostedService<DeliveryWorker>();
        return services;
    }
}
