using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Fellows.Server.Features.Streaming;

public static class StreamingRegistration
{
    /// <summary>
    /// The streaming API: the hub of this node's connections, the listener on the database's announcements, and the
    /// notification renderer seam (TryAdd: a notifications feature registered earlier wins).
    /// </summary>
    public static IServiceCollection AddStreaming(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StreamingOptions>()
            .Bind(configuration.GetSection(StreamingOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton<INotificationRenderer, NoNotificationRenderer>();
        services.AddSingleton<StreamingHub>();
        services.AddHostedService(sp => sp.GetRequiredService<StreamingHub>());
        services.AddHostedService<StreamingListener>();
        return services;
    }
}
