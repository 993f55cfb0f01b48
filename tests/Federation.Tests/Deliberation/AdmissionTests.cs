using Fellows.Federation.Deliberation;
using NUnit.Framework;
using static Fellows.Federation.Tests.Deliberation.Votes;

#pragma warning disable CA1861 // expected arrays inline read best in tests

namespace Fellows.Federation.Tests.Deliberation;

public class AdmissionTests
{
    private static readonly MotionRules YesNo = Rules(DecisionMethod.Majority, "yes", "no");

    [Test]
    public void Count_stance_at_close_is_late_and_one_tick_before_is_counted()
    {
        var late = By(1, "no") with { Published = Closes };
        var justInTime = By(2, "yes") with { Published = Closes.AddTicks(-1) };

        var tally = Tally.Count(YesNo, Electorate(2), [late, justInTime]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.AfterClose));
            Assert.That(tally.Rejections.Single().Code, Is.EqualTo("after-close"));
            Assert.That(tally.Rejections.Single().StanceId, Is.EqualTo(late.Id));
            Assert.That(tally.CountOf("no"), Is.Zero);
            Assert.That(tally.Winner, Is.EqualTo("yes"));
        });
    }

    [Test]
    public void Count_late_change_leaves_the_earlier_stance_counted()
    {
        var first = By(1, "yes") with { Published = Opens };
        var late = By(1, "no") with { Published = Closes.AddMinutes(1) };

        var tally = Tally.Count(YesNo, Electorate(1), [late, first]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.CountOf("yes"), Is.EqualTo(1));
            Assert.That(tally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.AfterClose));
        });
    }

    [Test]
    public void Count_ineligible_voter_is_rejected()
    {
        var outsider = By("https://elsewhere.example/users/mallory", "no");

        var tally = Tally.Count(YesNo, Electorate(1), [outsider, By(1, "yes")]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.Ineligible));
            Assert.That(tally.Rejections.Single().Voter, Is.EqualTo("https://elsewhere.example/users/mallory"));
            Assert.That(tally.Participants, Is.EqualTo(1));
        });
    }

    [Test]
    public void Count_stance_on_another_motion_is_rejected()
    {
        var stray = By(1, "no") with { InReplyTo = "https://a.example/motions/2" };

        var tally = Tally.Count(YesNo, Electorate(1), [stray]);

        Assert.That(tally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.WrongMotion));
    }

    [Test]
    public void Count_only_the_latest_stance_per_voter_counts()
    {
        var first = By(1, "no") with { Published = Opens.AddHours(1) };
        var second = By(1, "yes") with { Published = Opens.AddHours(3) };
        var third = By(1, "no") with { Published = Opens.AddHours(2) };

        var tally = Tally.Count(YesNo, Electorate(1), [second, first, third]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.CountOf("yes"), Is.EqualTo(1));
            Assert.That(tally.CountOf("no"), Is.Zero);
            Assert.That(tally.Ballots.Single().StanceId, Is.EqualTo(second.Id));
            Assert.That(tally.Rejections.Select(r => r.Reason), Is.All.EqualTo(RejectionReason.Superseded));
            Assert.That(tally.Rejections.Select(r => r.StanceId), Is.EquivalentTo(new[] { first.Id, third.Id }));
        });
    }

    [Test]
    public void Count_same_time_stances_of_one_voter_resolve_by_greater_id()
    {
        var a = By(1, "no") with { Id = "https://a.example/users/v1/stances/a", Published = Opens };
        var b = By(1, "yes") with { Id = "https://a.example/users/v1/stances/b", Published = Opens };

        var forwards = Tally.Count(YesNo, Electorate(1), [a, b]);
        var backwards = Tally.Count(YesNo, Electorate(1), [b, a]);

        Assert.Multiple(() =>
        {
            Assert.That(forwards.Ballots.Single().StanceId, Is.EqualTo(b.Id));
            Assert.That(backwards.Ballots.Single().StanceId, Is.EqualTo(b.Id));
        });
    }

    [Test]
    public void Count_malformed_later_stance_does_not_displace_a_valid_one()
    {
        var valid = By(1, "yes") with { Published = Opens };
        var malformed = By(1, "maybe") with { Published = Opens.AddHours(1) };

        var tally = Tally.Count(YesNo, Electorate(1), [valid, malformed]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.CountOf("yes"), Is.EqualTo(1));
            Assert.That(tally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.MalformedChoice));
        });
    }

    [Test]
    public void Count_identical_copies_count_once()
    {
        var stance = By(1, "yes");

        var tally = Tally.Count(YesNo, Electorate(1), [stance, stance, stance with { }]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.CountOf("yes"), Is.EqualTo(1));
            Assert.That(tally.Rejections.Select(r => r.Reason), Is.EqualTo(new[] { RejectionReason.Duplicate, RejectionReason.Duplicate }));
        });
    }

    [Test]
    public void Count_conflicting_copies_of_one_id_are_all_rejected()
    {
        var stance = By(1, "yes");
        var forged = stance with { Choices = ["no"] };

        var tally = Tally.Count(YesNo, Electorate(1), [stance, forged]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Participants, Is.Zero);
            Assert.That(tally.Rejections.Select(r => r.Reason), Is.All.EqualTo(RejectionReason.ConflictingDuplicate));
            Assert.That(tally.Rejections, Has.Count.EqualTo(2));
        });
    }

    [Test]
    public void Count_rejected_stances_never_change_the_tally_or_digest()
    {
        var valid = new[] { By(1, "yes"), By(2, "no"), By(3, "yes") };
        var noise = new[]
        {
            By(1, "no") with { Published = Closes.AddDays(1) },
            By("https://elsewhere.example/users/x", "no"),
            By(2, "maybe") with { Published = Closes.AddTicks(-1) },
            valid[2],
            By(3, "no") with { InReplyTo = "https://a.example/motions/other", Published = Closes.AddTicks(-1) },
        };

        var clean = Tally.Count(YesNo, Electorate(3), valid);
        var noisy = Tally.Count(YesNo, Electorate(3), valid.Concat(noise));

        Assert.Multiple(() =>
        {
            Assert.That(noisy.Counts, Is.EqualTo(clean.Counts));
            Assert.That(noisy.Digest, Is.EqualTo(clean.Digest));
            Assert.That(noisy.State, Is.EqualTo(clean.State));
            Assert.That(noisy.Rejections.Select(r => r.Code), Is.EquivalentTo(new[] { "after-close", "ineligible", "malformed-choice", "duplicate", "wrong-motion" }));
        });
    }

    [Test]
    public void Count_rejections_are_listed_in_stance_id_order()
    {
        var stances = Enumerable.Range(1, 5).Select(n => By(n, "maybe")).Reverse().ToArray();

        var tally = Tally.Count(YesNo, Electorate(5), stances);

        Assert.That(tally.Rejections.Select(r => r.StanceId), Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));
    }

    [Test]
    public void Codes_round_trip_for_every_reason()
    {
        foreach (var reason in Enum.GetValues<RejectionReason>())
            Assert.That(Rejection.Codes.Parse(Rejection.Codes.Of(reason)), Is.EqualTo(reason));
        Assert.That(Rejection.Codes.Parse("nonsense"), Is.Null);
    }

    [Test]
    public void Count_secret_ballot_without_receipt_is_rejected_and_ballots_hide_voters()
    {
        var rules = YesNo with { SecretBallot = true };
        var receipt = TallyDigest.Receipt(Motion, TallyDigest.NewNonce(), ["yes"]);
        var withReceipt = By(1, "yes") with { Receipt = receipt };
        var without = By(2, "no");
        var badReceipt = By(3, "no") with { Receipt = "ABC" };

        var tally = Tally.Count(rules, Electorate(3), [withReceipt, without, badReceipt]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Rejections.Select(r => r.Reason), Is.All.EqualTo(RejectionReason.MissingReceipt));
            Assert.That(tally.Rejections, Has.Count.EqualTo(2));
            var ballot = tally.Ballots.Single();
            Assert.That(ballot.Receipt, Is.EqualTo(receipt));
            Assert.That(ballot.Voter, Is.Null);
            Assert.That(ballot.StanceId, Is.Null);
            Assert.That(ballot.ProofValue, Is.Null);
            Assert.That(TallyDigest.LeafObject(ballot).ToJsonString(), Does.Not.Contain("v1"));
        });
    }

    [Test]
    public void Count_secret_ballot_reused_receipt_counts_the_earlier_only()
    {
        var rules = YesNo with { SecretBallot = true };
        var receipt = TallyDigest.Receipt(Motion, TallyDigest.NewNonce(), ["yes"]);
        var original = By(1, "yes") with { Receipt = receipt, Published = Opens.AddHours(1) };
        var copy = By(2, "yes") with { Receipt = receipt, Published = Opens.AddHours(2) };

        var tally = Tally.Count(rules, Electorate(2), [copy, original]);

        Assert.Multiple(() =>
        {
            Assert.That(tally.Participants, Is.EqualTo(1));
            Assert.That(tally.Rejections.Single().StanceId, Is.EqualTo(copy.Id));
            Assert.That(tally.Rejections.Single().Reason, Is.EqualTo(RejectionReason.DuplicateReceipt));
        });
    }
}
