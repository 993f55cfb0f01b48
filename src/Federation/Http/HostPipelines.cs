using System.Net;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Fellows.Federation.Http;

/// <summary>What came back from one request, with the body already read (or refused) inside the timeout.</summary>
internal sealed record HttpAnswer(
    HttpStatusCode Status,
    string? MediaType,
    Uri? Location,
    TimeSpan? RetryAfter,
    byte[]? Body,
    bool TooLarge)
{
    public int Code => (int)Status;

    public bool IsSuccess => Code is >= 200 and <= 299;

    public bool IsRedirect => Code is 301 or 302 or 303 or 307 or 308;

    /// <summary>A sign the host is struggling rather than that our request was wrong.</summary>
    public bool IsTransient => Code is >= 500 or 408 or 429;
}

/// <summary>
/// The resilience pipelines for one remote host. Fetches and deliveries share the circuit breaker,
/// so a host that is down for deliveries is also not hammered with fetches, and the other way round.
/// </summary>
internal sealed class HostPipelines
{
    private readonly CircuitBreakerStateProvider _state = new();

    public HostPipelines(FederationHttpOptions options, TimeProvider timeProvider)
    {
        var breaker = new ResiliencePipelineBuilder<HttpAnswer> { TimeProvider = timeProvider }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpAnswer>
            {
                FailureRatio = options.CircuitFailureRatio,
                MinimumThroughput = options.CircuitMinimumThroughput,
                SamplingDuration = options.CircuitSamplingDuration,
                BreakDuration = options.CircuitBreakDuration,
                StateProvider = _state,
                // Only the host's health counts: a 404 or 401 is a working server saying no.
                ShouldHandle = args => ValueTask.FromResult(IsHostFailure(args.Outcome)),
            })
            .Build();

        // Order matters: the timeout sits inside the breaker so a timeout counts as a failure,
        // and the retry sits outside so each attempt is counted and an open circuit stops retrying.
        var fetch = new ResiliencePipelineBuilder<HttpAnswer> { TimeProvider = timeProvider };
        if (options.FetchRetries > 0)
        {
            fetch.AddRetry(new RetryStrategyOptions<HttpAnswer>
            {
                MaxRetryAttempts = options.FetchRetries,
                Delay = options.FetchRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(IsHostFailure(args.Outcome)),
            });
        }

        Fetch = fetch.AddPipeline(breaker).AddTimeout(options.FetchTimeout).Build();

        // No retry for POST: the durable delivery queue owns retries and their back-off.
        Post = new ResiliencePipelineBuilder<HttpAnswer> { TimeProvider = timeProvider }
            .AddPipeline(breaker)
            .AddTimeout(options.PostTimeout)
            .Build();
    }

    public ResiliencePipeline<HttpAnswer> Fetch { get; }

    public ResiliencePipeline<HttpAnswer> Post { get; }

    public bool IsCircuitOpen => _state.CircuitState is CircuitState.Open or CircuitState.Isolated;

    private static bool IsHostFailure(Outcome<HttpAnswer> outcome) => outcome switch
    {
        { Exception: TimeoutRejectedException } => true,
        // The handler's connect timeout surfaces as a cancellation carrying a TimeoutException.
        { Exception: OperationCanceledException { InnerException: TimeoutException } } => true,
        { Exception: BrokenCircuitException } => false,
        // Our own refusal says nothing about the remote host.
        { Exception: HttpRequestException e } => !BlockedAddressException.IsCause(e),
        { Exception: IOException } => true,
        { Exception: not null } => false,
        { Result: { } answer } => answer.IsTransient,
        _ => false,
    };
}
