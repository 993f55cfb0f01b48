using System.Threading.Channels;

namespace Fellows.Server.Database;

/// <summary>
/// Runs concurrent calls of one kind together: callers hand in their input and wait; one loop takes everything
/// waiting (up to <c>maxBatch</c>) and makes one round trip for all of it, then answers each caller. Nothing waits
/// on purpose: a lone call runs at once, and under load the batches grow while the previous one is in flight.
/// Used where each call would otherwise cost a round trip or a commit of its own (the inbox's lookup and insert).
/// </summary>
public sealed class GroupedCalls<TIn, TOut> : IAsyncDisposable
{
    readonly Func<IReadOnlyList<TIn>, CancellationToken, Task<IReadOnlyList<TOut>>> _run;
    readonly int _maxBatch;
    readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    readonly CancellationTokenSource _stopping = new();
    readonly Task _loop;
    long _batches;

    /// <param name="run">Answers a batch, one output per input in the same order; an exception fails every call of the batch.</param>
    /// <param name="maxBatch">The most inputs in one batch.</param>
    public GroupedCalls(Func<IReadOnlyList<TIn>, CancellationToken, Task<IReadOnlyList<TOut>>> run, int maxBatch)
    {
        (_run, _maxBatch) = (run, maxBatch);
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Batches run so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>
    /// Adds <paramref name="input"/> to the next batch and waits for its answer. Cancelling stops the wait only:
    /// the call may still run (for a write, it may still commit).
    /// </summary>
    public Task<TOut> CallAsync(TIn input, CancellationToken ct)
    {
        var pending = new Pending(input);
        if (!_queue.Writer.TryWrite(pending)) throw new InvalidOperationException("Stopped.");
        return pending.Done.Task.WaitAsync(ct);
    }

    async Task LoopAsync()
    {
        var batch = new List<Pending>(_maxBatch);
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                batch.Clear();
                while (batch.Count < _maxBatch && reader.TryRead(out var pending)) batch.Add(pending);
                try
                {
                    var outputs = await _run(batch.ConvertAll(p => p.Input), _stopping.Token);
                    Interlocked.Increment(ref _batches);
                    for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(outputs[i]);
                }
                catch (Exception e) when (e is not OperationCanceledException || !_stopping.IsCancellationRequested)
                {
                    foreach (var pending in batch) pending.Done.TrySetException(e);
                }
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested) { }
        finally
        {
            var stopped = new InvalidOperationException("Stopped.");
            foreach (var pending in batch) pending.Done.TrySetException(stopped);
            while (reader.TryRead(out var left)) left.Done.TrySetException(stopped);
        }
    }

    /// <summary>Lets the calls already handed in finish (for up to 5 seconds), then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try { await _loop.WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (TimeoutException) { }
        await _stopping.CancelAsync();
        await _loop;
        _stopping.Dispose();
    }

    sealed record Pending(TIn Input)
    {
        public TaskCompletionSource<TOut> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
