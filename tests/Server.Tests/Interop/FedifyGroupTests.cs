using System.Text.Json;
using Dapper;
using Npgsql;
using NUnit.Framework;

namespace Fellows.Server.Tests.Interop;

/// <summary>
/// A Fellows workgroup seen from an independent implementation: the Fedify peer follows it like any Group actor,
/// receives the group's Announce of a member's post (signed by the group, with <c>audience</c>), and, being a member
/// once its Follow is accepted, gets its own post to the group announced.
/// </summary>
[TestFixture]
[Category("Interop")]
[CancelAfter(180_000)]
public sealed class FedifyGroupTests
{
    static readonly TimeSpan Delivery = TimeSpan.FromSeconds(20);

    [Test]
    public async Task Fedify_peer_follows_a_workgroup_and_receives_its_announces(CancellationToken ct)
    {
        await using var fellows = await FellowsInstance.StartAsync("groups-fedify", settings: new Dictionary<string, string?>
        {
            ["Delivery:PollInterval"] = "00:00:00.300",
        });
        await using var peer = await FedifyPeer.StartAsync(ct);
        try
        {
            var ann = await fellows.CreateMemberAsync("ann");
            var group = await ann.PostJsonAsync("/api/fellows/v1/groups", new { username = "allotment", membership = "open" });
            var groupUri = group.GetProperty("uri").GetString()!;

            var follow = await peer.FollowAsync($"allotment@{fellows.Domain}", ct);
            var accept = await peer.WaitForReceivedAsync(r => r.Status is not null && r.Activity?.Type == "Accept" && r.Activity.ObjectId == follow.Id, Delivery, ct);
            Assert.That(accept.Verified, Is.True, $"the group signs with its own key ({accept.UnverifiedReason}, {accept.Status})");
            Assert.That(accept.Activity!.Actor, Is.EqualTo(groupUri));

            var post = (await ann.PostJsonAsync("/api/v1/statuses", new { status = $"@allotment@{fellows.Domain} Compost day!", visibility = "public" }))
                .GetProperty("uri").GetString()!;
            var announce = await peer.WaitForReceivedAsync(r => r.Status is not null && r.Activity?.Type == "Announce" && r.Activity.ObjectId == post, Delivery, ct);
            Assert.Multiple(() =>
            {
                Assert.That(announce.Verified, Is.True);
                Assert.That(announce.KeyId, Is.EqualTo(groupUri + "#main-key"));
                Assert.That(announce.Activity!.Actor, Is.EqualTo(groupUri));
                Assert.That(announce.Body!.Value.GetProperty("audience").GetString(), Is.EqualTo(groupUri));
            });

            // The peer is a member now (an open group): its post addressed to the group is announced too.
            var own = await peer.PostAsync("<p>I will bring a spade</p>", [groupUri], ct);
            await Api.EventuallyAsync(async () =>
            {
                await using var conn = new NpgsqlConnection(fellows.ConnectionString);
                return await conn.ExecuteScalarAsync<bool>("""
                    SELECT EXISTS (SELECT 1 FROM statuses b JOIN statuses o ON o.id = b.reblog_of_id JOIN accounts g ON g.id = b.account_id
                                   WHERE o.uri = @uri AND g.uri = @groupUri)
                    """, new { uri = own.Id, groupUri });
            }, "the group to announce the peer's post");
            await peer.WaitForReceivedAsync(r => r.Activity?.Type == "Announce" && r.Activity.ObjectId == own.Id, Delivery, ct);
        }
        catch
        {
            await TestContext.Out.WriteLineAsync($"peer log:\n{peer.Log}");
            throw;
        }
    }
}
