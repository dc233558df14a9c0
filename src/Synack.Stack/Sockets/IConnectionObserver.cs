using Synack.Tcp;

namespace Synack.Stack;

/// <summary>Told what happens to a connection; the socket API implements it.</summary>
internal interface IConnectionObserver
{
    void OnEvent(ConnectionEvent e, TcpError error);

    /// <summary>Called while the connection processes an input: only record, never call back in.</summary>
    void OnStateChanged(TcpState from, TcpState to, string cause, TimeSpan now);

    /// <summary>An input to the connection is processed and the stack's bookkeeping done: readiness may have changed.</summary>
    void Settled();
}
