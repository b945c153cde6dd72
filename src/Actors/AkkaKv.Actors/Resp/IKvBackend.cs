using Akka.Actor;
using AkkaKv.Codec;

namespace AkkaKv.Resp;

/// <summary>
/// Where the RESP gateway sends requests: the node's gateway actor. Every request takes the same
/// path as the .NET client's (same validation, coordinators, quorums); the RESP layer only
/// translates commands and replies.
/// </summary>
internal interface IKvBackend
{
    /// <summary>
    /// Sends <paramref name="request"/> (a Get, Put, Delete or GetStatus) and completes with its
    /// reply, or faults with <see cref="TimeoutException"/> when none arrives within <paramref name="timeout"/>.
    /// </summary>
    Task<object> RequestAsync(IKvMessage request, TimeSpan timeout);
}

/// <summary>The backend of a running node: asks <c>/user/kv-gateway</c>.</summary>
internal sealed class GatewayBackend(IActorRef gateway) : IKvBackend
{
    public async Task<object> RequestAsync(IKvMessage request, TimeSpan timeout)
    {
        try
        {
            return await gateway.Ask<object>(request, timeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            throw new TimeoutException(e.Message, e);
        }
    }
}
