using AkkaKv.Listing;
using Xunit;
using static AkkaKv.Tests.Core.CoreTestSupport;

namespace AkkaKv.Tests.Core;

/// <summary>Redis's glob rules for KEYS and SCAN MATCH, case by case as redis-server answers them.</summary>
public sealed class KeyPatternTests
{
    [Theory]
    [InlineData("*", "", true)]
    [InlineData("*", "anything", true)]
    [InlineData("", "", true)]
    [InlineData("", "a", false)]
    [InlineData("user:*", "user:42", true)]
    [InlineData("user:*", "usr:42", false)]
    [InlineData("h?llo", "hello", true)]
    [InlineData("h?llo", "hllo", false)]
    [InlineData("h*llo", "hllo", true)]
    [InlineData("h*llo", "heeeello", true)]
    [InlineData("h[ae]llo", "hallo", true)]
    [InlineData("h[ae]llo", "hillo", false)]
    [InlineData("h[^e]llo", "hallo", true)]
    [InlineData("h[^e]llo", "hello", false)]
    [InlineData("h[a-b]llo", "hbllo", true)]
    [InlineData("h[b-a]llo", "hallo", true)]
    [InlineData("h[a-b]llo", "hcllo", false)]
    [InlineData("h\\*llo", "h*llo", true)]
    [InlineData("h\\*llo", "hello", false)]
    [InlineData("*a*b*c*", "xxaxxbxxcxx", true)]
    [InlineData("*a*b*c*", "xxaxxcxxbxx", false)]
    [InlineData("a*", "A", false)]
    [InlineData("k[", "k", false)]
    [InlineData("k[ab", "ka", true)]
    [InlineData("***", "", true)]
    public void Matches_as_Redis(string pattern, string key, bool expected)
    {
        Assert.Equal(expected, KeyPattern.Matches(B(pattern).Span, B(key).Span));
    }

    [Fact]
    public void Binary_keys_match_byte_by_byte()
    {
        Assert.True(KeyPattern.Matches(B("?\\x"u8.ToArray()).Span, new byte[] { 0xFF, (byte)'x' }));
        Assert.True(KeyPattern.Matches(B("*").Span, new byte[] { 0, 1, 2 }));
    }

    [Fact]
    public void A_pattern_of_many_stars_against_a_long_key_answers_at_once()
    {
        var pattern = B(string.Concat(Enumerable.Repeat("*a", 200)) + "b");
        var key = B(new string('a', 1000));
        Assert.False(KeyPattern.Matches(pattern.Span, key.Span));
    }
}
