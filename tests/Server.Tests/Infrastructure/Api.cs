using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using NUnit.Framework;
using SkiaSharp;

namespace Fellows.Server.Tests;

/// <summary>Small helpers the API and federation tests share.</summary>
public static class Api
{
    /// <summary>The response's JSON body, failing the test with status and body when it is not a success.</summary>
    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.IsSuccessStatusCode, Is.True, $"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<JsonElement> GetJsonAsync(this Member member, string path) =>
        await JsonAsync(await member.Api.GetAsync(new Uri(path, UriKind.Relative)));

    public static async Task<JsonElement> PostJsonAsync(this Member member, string path, object? body = null) =>
        await JsonAsync(body is null
            ? await member.Api.PostAsync(new Uri(path, UriKind.Relative), null)
            : await member.Api.PostAsJsonAsync(new Uri(path, UriKind.Relative), body));

    /// <summary>Uploads a small PNG through media v2 as <paramref name="member"/> and waits until it is processed; returns its id.</summary>
    public static async Task<string> UploadImageAsync(Member member, string fileName = "plan.png")
    {
        using var bitmap = new SKBitmap(40, 30);
        using (var canvas = new SKCanvas(bitmap)) canvas.Clear(SKColors.SeaGreen);
        using var image = SKImage.FromBitmap(bitmap);
        var file = new ByteArrayContent(image.Encode(SKEncodedImageFormat.Png, 100).ToArray());
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var form = new MultipartFormDataContent { { file, "file", fileName } };
        var id = (await JsonAsync(await member.Api.PostAsync(new Uri("/api/v2/media", UriKind.Relative), form))).GetProperty("id").GetString()!;
        await EventuallyAsync(async () => (await member.Api.GetAsync(new Uri($"/api/v1/media/{id}", UriKind.Relative))).StatusCode == HttpStatusCode.OK,
            "the upload to be processed");
        return id;
    }

    /// <summary>Polls until <paramref name="probe"/> returns a value: federation is asynchronous, tests never sleep a fixed time.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, string what, int seconds = 20) where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (await probe() is { } value) return value;
            await Task.Delay(200);
        }
        throw new AssertionException($"Timed out waiting for {what}");
    }

    /// <summary>Polls until <paramref name="condition"/> holds.</summary>
    public static Task EventuallyAsync(Func<Task<bool>> condition, string what, int seconds = 20) =>
        EventuallyAsync(async () => await condition() ? "ok" : null, what, seconds);
}
