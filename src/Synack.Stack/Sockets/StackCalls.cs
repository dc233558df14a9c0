namespace Synack.Stack;

/// <summary>Runs socket calls on the stack's loop, from whatever thread the application is on.</summary>
internal static class StackCalls
{
    public static void Invoke(NetworkStack stack, Action action)
    {
        if (stack.Loop is { } loop) loop.Invoke(action);
        else action();
    }
}
