using AkkaKv.Observability;
using Xunit;

namespace AkkaKv.Tests.Core;

/// <summary>
/// Which of Akka.Remote's warnings a node logs at info: those a clean start or stop produces (a
/// seed not listening yet, a peer that left, this node stopping), never those about a running
/// member while the node runs. The messages are Akka.Remote's own texts, as the node logs them.
/// </summary>
public sealed class RemoteLogNoiseTests
{
    private const string Self = "akka.tcp://akkakv@127.0.0.1:4002";
    private const string Seed = "akka.tcp://akkakv@127.0.0.1:4001";

    private static readonly string Gated =
        $"Association with remote system {Seed} has failed; address is now gated for 5000 ms. Reason is: [Akka.Remote.Transport.InvalidAssociationException: No connection could be made because the target machine actively refused it. tcp://akkakv@127.0.0.1:4001]";

    private static readonly string Unreachable =
        $"Tried to associate with unreachable remote address [{Seed}]. Address is now gated for 5000 ms, all messages to this address will be delivered to dead letters. Reason: [Association failed with {Seed}] Caused by: [System.Net.Sockets.SocketException (111): Connection refused]";

    private static readonly string AssociationError =
        $"AssociationError [{Self}] -> [{Seed}]: Error [Association failed with {Seed}] []";

    private static readonly IReadOnlySet<string> None = new HashSet<string>();
    private static readonly IReadOnlySet<string> SeedRuns = new HashSet<string> { Seed };

    [Theory]
    [MemberData(nameof(Messages))]
    public void While_this_node_starts_or_stops_an_association_failure_is_expected(string message)
    {
        Assert.Equal("this node is starting or stopping", RemoteLogNoise.Expected(message, Self, selfRunning: false, SeedRuns));
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void A_failure_to_reach_a_running_member_while_this_node_runs_stays_a_warning(string message)
    {
        Assert.Null(RemoteLogNoise.Expected(message, Self, selfRunning: true, SeedRuns));
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void A_failure_to_reach_a_peer_that_is_no_running_member_is_expected(string message)
    {
        var reason = RemoteLogNoise.Expected(message, Self, selfRunning: true, None);
        Assert.Equal($"{Seed} is not a running member: not yet joined, leaving or gone", reason);
    }

    /// <summary>An endpoint writer's "Disassociated" names the peer only in its path (as the node logger passes it, URL-decoded).</summary>
    private static readonly string Disassociated =
        "Disassociated akka://akkakv/system/endpointManager/reliableEndpointWriter-akka.tcp://akkakv@127.0.0.1:4001-1/endpointWriter";

    public static TheoryData<string> Messages() => new() { Gated, Unreachable, AssociationError, Disassociated };

    [Fact]
    public void A_message_that_names_no_peer_stays_as_it_is()
    {
        Assert.Null(RemoteLogNoise.Expected("Error caught channel [[::ffff:127.0.0.1]:4002->[::ffff:127.0.0.1]:51234](Id=1)", Self, selfRunning: false, None));
        Assert.Null(RemoteLogNoise.Expected($"Remoting now listens on addresses: [{Self}]", Self, selfRunning: false, None));
    }

    [Fact]
    public void Addresses_are_taken_without_paths_and_with_IPv6_hosts()
    {
        Assert.Equal([Seed, "akka.tcp://akkakv@[::1]:4003"],
            RemoteLogNoise.Addresses($"[{Seed}/system/endpointManager/reliableEndpointWriter-x] to akka.tcp://akkakv@[::1]:4003/user/gateway, again {Seed}").ToArray());
    }

    [Fact]
    public void A_slot_hand_off_dropping_buffered_requests_is_expected_and_other_sharding_warnings_are_not()
    {
        // As the region logs it (seen in a node log at a clean stop): the entity type's name first.
        Assert.NotNull(RemoteLogNoise.ExpectedSharding("replica: Dropping [1] buffered messages to shard [166/1] during hand off to avoid re-ordering"));
        Assert.NotNull(RemoteLogNoise.ExpectedSharding("Dropping [1] buffered messages to shard [147/2] during hand off to avoid re-ordering"));
        Assert.NotNull(RemoteLogNoise.ExpectedSharding("Dropping [120] buffered messages to shard [3/0] during hand off to avoid re-ordering"));
        Assert.Null(RemoteLogNoise.ExpectedSharding("ShardRegion for [replica] has [100001] buffered messages, dropping the message"));
        Assert.Null(RemoteLogNoise.ExpectedSharding("replica: Shard [166/1] is not yet allocated; Dropping [1] buffered messages to shard [166/1] during hand off"));
        Assert.Null(RemoteLogNoise.ExpectedSharding("Trying to register to coordinator at [] failed"));
        Assert.Null(RemoteLogNoise.ExpectedSharding("Shard [147/2] handoff timed out; dropping [1] buffered messages to shard [147/2] during hand off"));
    }

    [Fact]
    public void A_region_asking_again_for_slot_homes_is_expected_only_while_members_join_or_leave()
    {
        // As n1 logged it during CI's clean ./cluster.sh stop, while the other nodes left.
        const string retry = "replica: Requested shard homes [143/2] from coordinator at [[akka://akkakv/system/sharding/replicaCoordinator/singleton/coordinator#561621993]]. [1] total buffered messages.";
        Assert.NotNull(RemoteLogNoise.ExpectedSharding(retry, membershipSettled: false));
        Assert.Null(RemoteLogNoise.ExpectedSharding(retry, membershipSettled: true));
        Assert.Null(RemoteLogNoise.ExpectedSharding(retry));
        Assert.Null(RemoteLogNoise.ExpectedSharding("replica: Retry request for shard [143/2] homes from coordinator at [x]. [1] buffered messages.", membershipSettled: false));
    }
}
