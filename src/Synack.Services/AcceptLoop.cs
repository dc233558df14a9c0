using Synack.Stack;

namespace Synack.Services;

/// <summary>The accept loop every service of <c>synack serve</c> runs on its listener.</summary>
public static class AcceptLoop
{
    /// <summary>
    /// Accepts until <paramref name="ct"/> is cancelled or the listener stops, each connection served on
    /// its own task. The task starts inline and runs until its first wait (a read, mostly), so on a
    /// simulated network it stays on the loop and in virtual time.
    /// </summary>
    public static async Task RunAsync(TcpListener listener, Func<TcpConnection, CancellationToken, Task> serve, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpConnection c;
            try
            {
                c = await listener.AcceptAsync(ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or System.Net.Sockets.SocketException)
            {
                return;
            }
            _ = serve(c, ct);
        }
    }
}
