using SkiaSharp;

namespace Fellows.Server.Features.Media;

/// <summary>One encoded image: its bytes, type and size.</summary>
public sealed record EncodedImage(byte[] Bytes, string ContentType, string Extension, int Width, int Height);

/// <summary>What processing an upload gives: the image to keep and a small preview.</summary>
public sealed record ProcessedImage(EncodedImage Original, EncodedImage Preview);

/// <summary>Why an image was refused, in words a member can act on.</summary>
public sealed class ImageRejectedException(string message) : Exception(message);

/// <summary>
/// Decodes uploads with SkiaSharp and re-encodes them, which drops every piece of metadata (EXIF location,
/// camera serials, comments): nothing of the original file is ever served. Orientation is applied first, big
/// images are scaled down, and animated images keep their first frame.
/// </summary>
public static class ImageProcessor
{
    /// <summary>Larger pictures are refused before decoding (a decompression bomb costs nothing to upload).</summary>
    public const long MaxPixels = 8192L * 8192L;

    /// <summary>Kept originals fit within this many pixels, about Mastodon's 3840×2160.</summary>
    public const long MaxStoredPixels = 3840L * 2160L;

    public const int PreviewSide = 640;

    public static ProcessedImage Process(byte[] upload) => Process(upload, MaxStoredPixels, PreviewSide, crop: null);

    /// <summary>
    /// Processes an upload. With <paramref name="crop"/> the image is cut to that aspect ratio around its centre and
    /// scaled to fit it exactly (avatars are square, headers 3:1).
    /// </summary>
    public static ProcessedImage Process(byte[] upload, long maxPixels, int previewSide, (int Width, int Height)? crop)
    {
        using var data = SKData.CreateCopy(upload);
        using var codec = SKCodec.Create(data) ?? throw new ImageRejectedException("The file is not an image this server can read (JPEG, PNG, GIF or WebP)");
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0) throw new ImageRejectedException("The image is empty");
        if ((long)info.Width * info.Height > MaxPixels)
            throw new ImageRejectedException($"The image is too large ({info.Width}×{info.Height}); at most {MaxPixels / 1_000_000} megapixels");

        var format = codec.EncodedFormat;
        using var decoded = new SKBitmap(new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var result = codec.GetPixels(decoded.Info, decoded.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            throw new ImageRejectedException("The image could not be decoded");
        using var upright = Orient(decoded, codec.EncodedOrigin);

        using var framed = crop is { } c ? Crop(upright, c.Width, c.Height) : upright.Copy();
        var (width, height) = crop is { } size ? size : Fit(framed.Width, framed.Height, maxPixels);
        var hasAlpha = HasTransparency(framed);
        var original = Encode(framed, width, height, format, hasAlpha);
        var (pw, ph) = FitSide(framed.Width, framed.Height, previewSide);
        var preview = Encode(framed, pw, ph, format, hasAlpha);
        return new ProcessedImage(original, preview);
    }

    /// <summary>Applies the EXIF orientation, so the stored image (which has no EXIF any more) stands the right way up.</summary>
    static SKBitmap Orient(SKBitmap source, SKEncodedOrigin origin)
    {
        if (origin == SKEncodedOrigin.TopLeft) return source.Copy();
        float w = source.Width, h = source.Height;
        // x' = scaleX·x + skewX·y + transX, y' = skewY·x + scaleY·y + transY
        var matrix = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
            SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),
            _ => SKMatrix.Identity,
        };
        var swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var result = new SKBitmap(swap ? source.Height : source.Width, swap ? source.Width : source.Height, source.ColorType, source.AlphaType);
        using var canvas = new SKCanvas(result);
        canvas.SetMatrix(matrix);
        using var image = SKImage.FromBitmap(source);
        canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest));
        return result;
    }

    static SKBitmap Crop(SKBitmap source, int width, int height)
    {
        var targetRatio = (double)width / height;
        var sourceRatio = (double)source.Width / source.Height;
        var (cw, ch) = sourceRatio > targetRatio
            ? ((int)Math.Round(source.Height * targetRatio), source.Height)
            : (source.Width, (int)Math.Round(source.Width / targetRatio));
        var x = (source.Width - cw) / 2;
        var y = (source.Height - ch) / 2;
        var cropped = new SKBitmap(Math.Max(cw, 1), Math.Max(ch, 1), source.ColorType, source.AlphaType);
        source.ExtractSubset(cropped, new SKRectI(x, y, x + cropped.Width, y + cropped.Height));
        return cropped.Copy();
    }

    static (int Width, int Height) Fit(int width, int height, long maxPixels)
    {
        var pixels = (long)width * height;
        if (pixels <= maxPixels) return (width, height);
        var scale = Math.Sqrt((double)maxPixels / pixels);
        return (Math.Max(1, (int)(width * scale)), Math.Max(1, (int)(height * scale)));
    }

    static (int Width, int Height) FitSide(int width, int height, int side)
    {
        var longest = Math.Max(width, height);
        if (longest <= side) return (width, height);
        var scale = (double)side / longest;
        return (Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)));
    }

    static bool HasTransparency(SKBitmap bitmap)
    {
        if (bitmap.AlphaType == SKAlphaType.Opaque) return false;
        var span = bitmap.GetPixelSpan();
        // RGBA8888: every fourth byte is alpha.
        for (var i = 3; i < span.Length; i += 4)
            if (span[i] != 255) return true;
        return false;
    }

    static EncodedImage Encode(SKBitmap source, int width, int height, SKEncodedImageFormat format, bool hasAlpha)
    {
        using var scaled = width == source.Width && height == source.Height
            ? source.Copy()
            : source.Resize(new SKImageInfo(width, height, source.ColorType, source.AlphaType), new SKSamplingOptions(SKCubicResampler.Mitchell));
        using var image = SKImage.FromBitmap(scaled);
        // WebP stays WebP; anything with transparency becomes PNG; everything else JPEG.
        var (target, type, ext, quality) = format == SKEncodedImageFormat.Webp
            ? (SKEncodedImageFormat.Webp, "image/webp", "webp", 85)
            : hasAlpha ? (SKEncodedImageFormat.Png, "image/png", "png", 100) : (SKEncodedImageFormat.Jpeg, "image/jpeg", "jpg", 85);
        using var encoded = image.Encode(target, quality) ?? throw new ImageRejectedException("The image could not be encoded");
        return new EncodedImage(encoded.ToArray(), type, ext, width, height);
    }
}
