using System.Net.Http.Json;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Inventory;

/// <summary>
/// The client other services use: each attempt may take <see cref="StockClientPolicy.AttemptTimeout"/>;
/// a failed or slow attempt is retried with exponential back-off and jitter, up to the attempt limit.
/// Time comes from the <see cref="TimeProvider"/> it is given (the system clock in production).
/// </summary>
public sealed class StockClient(HttpClient http, StockClientPolicy policy, TimeProvider time)
{
    private readonly ResiliencePipeline _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<TimeoutRejectedException>(),
            MaxRetryAttempts = policy.Retries,
            BackoffType = DelayBackoffType.Exponential,
            Delay = policy.FirstDelay,
            MaxDelay = policy.MaxDelay,
            UseJitter = true,
            Randomizer = policy.Randomizer,
            OnRetry = _ =>
            {
                policy.OnRetry?.Invoke();
                return default;
            },
        })
        .AddTimeout(policy.AttemptTimeout)
        .Build();

    public async Task<StockLevel?> GetStockAsync(string sku, CancellationToken cancellationToken = default) =>
        await _pipeline.ExecuteAsync(async token =>
        {
            using var response = await http.GetAsync($"stock/{Uri.EscapeDataString(sku)}", token);
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadFromJsonAsync<StockLevel>(token);
        }, cancellationToken);
}

public sealed record StockClientPolicy
{
    public int Retries { get; init; } = 8;
    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>The jitter's source (seed it in tests, so runs repeat).</summary>
    public Func<double> Randomizer { get; init; } = Random.Shared.NextDouble;
    public Action? OnRetry { get; init; }
}
