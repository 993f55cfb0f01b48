namespace Fellows.Server.Common;

/// <summary>What went wrong, as a value: endpoints map the kind to a status code, the message to the body.</summary>
public sealed record Error(ErrorKind Kind, string Message)
{
    public static Error Validation(string message) => new(ErrorKind.Validation, message);
    public static Error NotFound(string message = "Record not found") => new(ErrorKind.NotFound, message);
    public static Error Conflict(string message) => new(ErrorKind.Conflict, message);
    public static Error Forbidden(string message = "This action is not allowed") => new(ErrorKind.Forbidden, message);
    public static Error Unauthorized(string message = "The access token is invalid") => new(ErrorKind.Unauthorized, message);
    public static Error Unavailable(string message) => new(ErrorKind.Unavailable, message);
}

public enum ErrorKind
{
    Validation,
    NotFound,
    Conflict,
    Forbidden,
    Unauthorized,
    Unavailable,
}

/// <summary>A value or an <see cref="Error"/>; services return these instead of throwing.</summary>
public readonly struct Result<T>
{
    readonly T? _value;

    Result(T value)
    {
        _value = value;
        Error = null;
    }

    Result(Error error)
    {
        _value = default;
        Error = error;
    }

    public Error? Error { get; }
    public bool IsOk => Error is null;
    public T Value => IsOk ? _value! : throw new InvalidOperationException($"Result holds an error: {Error!.Message}");

    public static implicit operator Result<T>(T value) => new(value);
    public static implicit operator Result<T>(Error error) => new(error);
}
