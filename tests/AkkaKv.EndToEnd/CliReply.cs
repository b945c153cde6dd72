using System.Text;
using System.Text.RegularExpressions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// A reply as <c>redis-cli --no-raw</c> prints it for RESP2 (its <c>cliFormatReplyTTY</c>):
/// <code>
/// "bulk"              quoted, \xHH \n \r \t \a \b \\ \" escapes
/// OK                  status, as is
/// (integer) 3
/// (nil)
/// (error) ERR ...
/// (empty array)
/// 1) "a"              arrays: the index right-aligned to the widest one, then ") "; a nested
/// 2) 1) "b"           array's first element on its parent's line, the rest indented to the
///    2) "c"           column where that first element began
/// </code>
/// </summary>
public abstract record CliReply
{
    private static readonly Regex Index = new(@"^ *(\d+)\) ", RegexOptions.CultureInvariant);

    public static CliReply Parse(string printed)
    {
        var lines = printed.Replace("\r\n", "\n").TrimEnd('\n').Split('\n');
        var row = 0;
        var reply = Parse(lines, ref row, 0);
        if (row != lines.Length) throw new FormatException($"unparsed redis-cli output from line {row + 1}: {printed}");
        return reply;
    }

    private static CliReply Parse(string[] lines, ref int row, int column)
    {
        var text = lines[row][column..];
        if (!Index.IsMatch(text))
        {
            row++;
            return Scalar(text);
        }
        var items = new List<CliReply>();
        while (true)
        {
            var match = Index.Match(lines[row][column..]);
            if (!match.Success || int.Parse(match.Groups[1].Value) != items.Count + 1) break;
            items.Add(Parse(lines, ref row, column + match.Length));
            // The next element of this array starts on a line whose first `column` characters are
            // blank; a line with anything there belongs to an enclosing array.
            if (row >= lines.Length || lines[row].Length <= column || !string.IsNullOrWhiteSpace(lines[row][..column])) break;
        }
        return new CliArray(items);
    }

    private static CliReply Scalar(string text) => text switch
    {
        "(nil)" => new CliNil(),
        "(empty array)" or "(empty list or set)" => new CliArray([]),
        _ when text.StartsWith("(integer) ", StringComparison.Ordinal) => new CliInteger(long.Parse(text["(integer) ".Length..])),
        _ when text.StartsWith("(error) ", StringComparison.Ordinal) => new CliError(text["(error) ".Length..]),
        _ when text.Length >= 2 && text[0] == '"' && text[^1] == '"' => new CliBulk(Unquote(text[1..^1])),
        _ => new CliStatus(text),
    };

    /// <summary>Undoes redis-cli's <c>sdscatrepr</c>; the bytes are read back as UTF-8.</summary>
    private static string Unquote(string quoted)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < quoted.Length; i++)
        {
            if (quoted[i] != '\\') { bytes.AddRange(Encoding.UTF8.GetBytes(quoted[i].ToString())); continue; }
            var next = quoted[++i];
            if (next == 'x')
            {
                bytes.Add(Convert.ToByte(quoted.Substring(i + 1, 2), 16));
                i += 2;
                continue;
            }
            bytes.Add(next switch { 'n' => (byte)'\n', 'r' => (byte)'\r', 't' => (byte)'\t', 'a' => 7, 'b' => 8, _ => (byte)next });
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>The text of a bulk or status reply; anything else fails the test with what arrived.</summary>
    public string AsText() => this switch
    {
        CliBulk b => b.Value,
        CliStatus s => s.Value,
        _ => throw new InvalidOperationException($"expected a string reply, got {this}"),
    };

    public IReadOnlyList<CliReply> AsArray() => this is CliArray a ? a.Elements : throw new InvalidOperationException($"expected an array reply, got {this}");
}

public sealed record CliBulk(string Value) : CliReply;
public sealed record CliStatus(string Value) : CliReply;
public sealed record CliInteger(long Value) : CliReply;
public sealed record CliNil : CliReply;
public sealed record CliError(string Message) : CliReply;

public sealed record CliArray(IReadOnlyList<CliReply> Elements) : CliReply
{
    public bool Equals(CliArray? other) => other is not null && Elements.SequenceEqual(other.Elements);
    public override int GetHashCode() => Elements.Count;
    public override string ToString() => $"[{string.Join(", ", Elements)}]";
}

/// <summary>A <c>KV.GET</c> reply (RESP2: the flat array siblings, [values], context, ctx, replicas, [[node, state]...]).</summary>
public sealed record KvGetReply(IReadOnlyList<string> Siblings, string Context, IReadOnlyList<(string Node, string State)> Replicas)
{
    public override string ToString() =>
        $"siblings [{string.Join(", ", Siblings)}], context {Context}, replicas [{string.Join(", ", Replicas.Select(r => $"{r.Node} {r.State}"))}]";

    public static KvGetReply From(CliReply reply)
    {
        var fields = reply.AsArray();
        if (fields.Count != 6 || fields[0].AsText() != "siblings" || fields[2].AsText() != "context" || fields[4].AsText() != "replicas")
            throw new FormatException($"not a KV.GET reply: {reply}");
        return new KvGetReply(
            fields[1].AsArray().Select(v => v.AsText()).ToList(),
            fields[3].AsText(),
            fields[5].AsArray().Select(r => (r.AsArray()[0].AsText(), r.AsArray()[1].AsText())).ToList());
    }
}
