using System.Security.Claims;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.FileProviders;

namespace Fellows.Server.Features.Media;

public static class MediaEndpoints
{
    public static void MapMediaEndpoints(this WebApplication app)
    {
        app.MapPost("/api/v2/media", (HttpRequest r, ClaimsPrincipal u, MediaService m, MediaPresenter p, CancellationToken ct) => UploadAsync(r, u, m, p, false, ct))
            .RequireScope("write:media").WithTags("Media").WithName("UploadMediaV2").DisableAntiforgery();
        app.MapPost("/api/v1/media", (HttpRequest r, ClaimsPrincipal u, MediaService m, MediaPresenter p, CancellationToken ct) => UploadAsync(r, u, m, p, true, ct))
            .RequireScope("write:media").WithTags("Media").WithName("UploadMediaV1").DisableAntiforgery();
        var group = app.MapGroup("/api/v1/media").WithTags("Media");
        group.MapGet("/{id}", Get).RequireScope("write:media").WithName("GetMedia");
        group.MapPut("/{id}", Update).RequireScope("write:media").WithName("UpdateMedia");
        group.MapDelete("/{id}", Delete).RequireScope("write:media").WithName("DeleteMedia");

        // Processed files. Nothing here is an upload as sent: every file was re-encoded by the server.
        var store = app.Services.GetRequiredService<MediaStore>();
        Directory.CreateDirectory(store.Root);
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(store.Root),
            RequestPath = MediaStore.UrlPath,
            ServeUnknownFileTypes = false,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.CacheControl = "public, max-age=31536000, immutable";
                headers.XContentTypeOptions = "nosniff";
                headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
                headers.AccessControlAllowOrigin = "*";
            },
        });
    }

    static async Task<IResult> UploadAsync(HttpRequest request, ClaimsPrincipal user, MediaService media, MediaPresenter presenter, bool processNow,
        CancellationToken ct)
    {
        if (!request.HasFormContentType) return Results.Json(new ApiError("Validation failed: send the file as multipart/form-data"), statusCode: 422);
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = MediaService.MaxImageBytes + 1024 * 1024;
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(ct);
        }
        catch (BadHttpRequestException e)
        {
            return Results.Json(new ApiError(e.StatusCode == 413 ? "File is too large" : "The upload could not be read"), statusCode: e.StatusCode == 413 ? 413 : 422);
        }
        catch (InvalidDataException)
        {
            return Results.Json(new ApiError("The upload could not be read"), statusCode: 422);
        }
        if (form.Files.GetFile("file") is not { } file) return Results.Json(new ApiError("Validation failed: File can't be blank"), statusCode: 422);
        if (file.Length > MediaService.MaxImageBytes) return Results.Json(new ApiError("Validation failed: File is too large"), statusCode: 422);
        using var buffer = new MemoryStream();
        await file.CopyToAsync(buffer, ct);
        var result = await media.UploadAsync(user.RequiredAccountId(), buffer.ToArray(), file.ContentType, form["description"].LastOrDefault(),
            form["focus"].LastOrDefault(), processNow, ct);
        if (!result.IsOk) return ApiResults.Error(result.Error!);
        var row = result.Value;
        if (row.State == MediaRow.Failed) return Results.Json(new ApiError($"Validation failed: {row.Error}"), statusCode: 422);
        var entity = presenter.Present(row);
        return row.State == MediaRow.Ready ? Results.Json(entity) : Results.Json(entity, statusCode: 202);
    }

    /// <summary>206 while processing, 200 when ready, 422 with the reason when it failed.</summary>
    static async Task<IResult> Get(string id, ClaimsPrincipal user, MediaService media, MediaPresenter presenter, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mediaId || await media.FindAsync(mediaId, ct) is not { } row || row.AccountId != user.RequiredAccountId())
            return ApiResults.NotFound();
        return row.State switch
        {
            MediaRow.Ready => Results.Json(presenter.Present(row)),
            MediaRow.Failed => Results.Json(new ApiError($"Validation failed: {row.Error}"), statusCode: 422),
            _ => Results.Json(presenter.Present(row), statusCode: 206),
        };
    }

    static async Task<IResult> Update(string id, HttpRequest request, ClaimsPrincipal user, MediaService media, MediaPresenter presenter, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mediaId) return ApiResults.NotFound();
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var result = await media.UpdateAsync(user.RequiredAccountId(), mediaId, p.Get("description"), p.Get("focus"), ct);
        return result.IsOk ? Results.Json(presenter.Present(result.Value)) : ApiResults.Error(result.Error!);
    }

    static async Task<IResult> Delete(string id, ClaimsPrincipal user, MediaService media, MediaPresenter presenter, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } mediaId) return ApiResults.NotFound();
        var result = await media.DeleteAsync(user.RequiredAccountId(), mediaId, ct);
        return result.IsOk ? Results.Json(presenter.Present(result.Value)) : ApiResults.Error(result.Error!);
    }
}
