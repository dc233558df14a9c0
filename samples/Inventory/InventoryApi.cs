using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Inventory;

/// <summary>The stock service: how many of an article are on the shelf.</summary>
public static class InventoryApi
{
    public static IEndpointRouteBuilder MapInventory(this IEndpointRouteBuilder app, IReadOnlyDictionary<string, int> shelf)
    {
        app.MapGet("/stock/{sku}", (string sku) =>
            shelf.TryGetValue(sku, out int count) ? Results.Ok(new StockLevel(sku, count)) : Results.NotFound());
        return app;
    }
}

public sealed record StockLevel(string Sku, int Count);
