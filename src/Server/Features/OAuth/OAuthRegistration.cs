using Fellows.Server.Configuration;
using Microsoft.AspNetCore.Http;

namespace Fellows.Server.Features.OAuth;

public static class OAuthRegistration
{
    public static IServiceCollection AddOAuth(this IServiceCollection services, InstanceOptions instance)
    {
        services.AddSingleton<SignInService>();
        services.AddSingleton<OAuthService>();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = instance.Scheme == "https" ? "__Host-fellows_csrf" : "fellows_csrf";
            o.Cookie.SecurePolicy = instance.Scheme == "https" ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.HttpOnly = true;
            o.Cookie.Path = "/";
            o.FormFieldName = "authenticity_token";
        });
        return services;
    }

    public static IEndpointRouteBuilder MapOAuth(this IEndpointRouteBuilder app)
    {
        app.MapOAuthEndpoints();
        app.MapRegistrationEndpoints();
        return app;
    }
}
