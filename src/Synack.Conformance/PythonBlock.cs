using System.Globalization;
using System.Text;

namespace Synack.Conformance;

/// <summary>
/// The part of Python a script's <c>%{ … }%</c> block may use: <c>assert</c> over numbers and
/// <c>tcpi_*</c> fields (chained comparisons, arithmetic, <c>and</c>/<c>or</c>/<c>not</c>), assignments
/// to names later blocks use, and <c>print(…)</c>. Anything else is refused when the script is read,
/// so a script is unsupported before it runs rather than failing halfway.
/// </summary>
internal sealed class PythonBlock
{
    private readonly List<Statement> _statements;

    private PythonBlock(List<Statement> statements) => _statements = statements;

    /// <summary>Every name the block reads (to decide before running whether the fields exist).</summary>
    public IEnumerable<string> Names => _statements.SelectMany(s => s.Names());

    /// <summary>Names the block assigns.</summary>
    public IEnumerable<string> Assigned => _statements.OfType<Assign>().Select(a => a.Name);

    public static PythonBlock Parse(string text)
    {
        string body = text.Trim();
        if (body.StartsWith("%{", StringComparison.Ordinal)) body = body[2..];
        if (body.EndsWith("}%", StringComparison.Ordinal)) body = body[..^2];
        var statements = new List<Statement>();
        foreach (var line in LogicalLines(body))
        {
            var tokens = Tokenize(line);
            if (tokens.Count == 0) continue;
            var p = new Parser(tokens);
            statements.Add(p.Statement());
            if (!p.AtEnd) throw new FormatException($"unexpected '{p.PeekText}' in Python: {line}");
        }
        return new PythonBlock(statements);
    }

    /// <summary>Runs the block: returns the first failed assertion's text and message, or null.</summary>
    public string? Run(Func<string, double> lookup, Dictionary<string, double> variables, List<string> printed)
    {
        double Get(string name) => variables.TryGetValue(name, out var v) ? v : lookup(name);
        foreach (var s in _statements)
        {
            switch (s)
            {
                case Assert a:
                    if (a.Condition.Eval(Get) == 0)
                    {
                        string message = a.Message is null ? "" : $" ({Format(a.Message.Eval(Get))})";
                        return $"assert {a.Source} failed{message}";
                    }
                    break;
                case Assign a:
                    variables[a.Name] = a.Value.Eval(Get);
                    break;
                case Print p:
                    printed.Add(string.Join(" ", p.Values.Select(v => Format(v.Eval(Get)))));
                    break;
            }
        }
        return null;
    }

    internal static string Format(double v) =>
        v == Math.Floor(v) && Math.Abs(v) < 1e15 ? ((long)v).ToString(CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Splits at newlines and semicolons; a backslash joins a line to the next; # starts a comment.</summary>
    private static IEnumerable<string> LogicalLines(string body)
    {
        var current = new StringBuilder();
        foreach (var raw in body.Replace("\r\n", "\n").Split('\n'))
        {
            string line = raw;
            int hash = IndexOutsideString(line, '#');
            if (hash >= 0) line = line[..hash];
            line = line.TrimEnd();
            bool joins = line.EndsWith('\\');
            if (joins) line = line[..^1];
            current.Append(line).Append(' ');
            if (joins) continue;
            foreach (var part in SplitOutsideString(current.ToString(), ';'))
            {
                if (part.Trim().Length > 0) yield return part.Trim();
            }
            current.Clear();
        }
        foreach (var part in SplitOutsideString(current.ToString(), ';'))
        {
            if (part.Trim().Length > 0) yield return part.Trim();
        }
    }

    private static int IndexOutsideString(string s, char c)
    {
        char quote = '\0';
        for (int i = 0; i < s.Length; i++)
        {
            if (quote != '\0') { if (s[i] == quote) quote = '\0'; continue; }
            if (s[i] is '"' or '\'') quote = s[i];
            else if (s[i] == c) return i;
        }
        return -1;
    }

    private static List<string> SplitOutsideString(string s, char c)
    {
        var parts = new List<string>();
        while (true)
        {
            int i = IndexOutsideString(s, c);
            if (i < 0) { parts.Add(s); return parts; }
            parts.Add(s[..i]);
            s = s[(i + 1)..];
        }
    }

    private enum TokenKind { Number, Name, String, Op }

    private readonly record struct Token(TokenKind Kind, string Text, double Value = 0);

    private static List<Token> Tokenize(string s)
    {
        var list = new List<Token>();
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (char.IsAsciiDigit(c))
            {
                int start = i;
                if (c == '0' && i + 1 < s.Length && s[i + 1] is 'x' or 'X')
                {
                    i += 2;
                    while (i < s.Length && char.IsAsciiHexDigit(s[i])) i++;
                    list.Add(new Token(TokenKind.Number, s[start..i], long.Parse(s.AsSpan(start + 2, i - start - 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
                    continue;
                }
                while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
                list.Add(new Token(TokenKind.Number, s[start..i], double.Parse(s.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture)));
                continue;
            }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                int start = i;
                while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_')) i++;
                list.Add(new Token(TokenKind.Name, s[start..i]));
                continue;
            }
            if (c is '"' or '\'')
            {
                int end = s.IndexOf(c, i + 1);
                if (end < 0) throw new FormatException("unterminated string in Python");
                list.Add(new Token(TokenKind.String, s[(i + 1)..end]));
                i = end + 1;
                continue;
            }
            string two = i + 1 < s.Length ? s.Substring(i, 2) : "";
            if (two is "==" or "!=" or "<=" or ">=" or "//" or "**" or "+=" or "-=" or "*=")
            {
                list.Add(new Token(TokenKind.Op, two));
                i += 2;
                continue;
            }
            if ("<>+-*/%(),=".Contains(c))
            {
                list.Add(new Token(TokenKind.Op, c.ToString()));
                i++;
                continue;
            }
            throw new FormatException($"cannot read '{c}' in Python: {s}");
        }
        return list;
    }

    // ------------------------------------------------------------------ statements and expressions

    /// <summary>A parenthesised tuple; its value is its first member.</summary>
    private sealed record Tuple(List<Expr> Members) : Expr
    {
        public override double Eval(Func<string, double> get)
        {
            double first = Members[0].Eval(get);
            for (int i = 1; i < Members.Count; i++) Members[i].Eval(get);
            return first;
        }

        public override IEnumerable<string> Names() => Members.SelectMany(m => m.Names());
    }

    /// <summary>Names read before this block assigns them, given what earlier blocks assigned: each statement sees only the assignments before it.</summary>
    public IEnumerable<string> NamesReadBeforeAssigned(IReadOnlySet<string> assignedEarlier)
    {
        var assigned = new HashSet<string>(assignedEarlier);
        foreach (var s in _statements)
        {
            foreach (var name in s.Names()) if (!assigned.Contains(name)) yield return name;
            if (s is Assign a) assigned.Add(a.Name);
        }
    }

    private abstract record Statement
    {
        public abstract IEnumerable<string> Names();
    }

    private sealed record Assert(Expr Condition, Expr? Message, string Source) : Statement
    {
        public override IEnumerable<string> Names() => Message is null ? Condition.Names() : Condition.Names().Concat(Message.Names());
    }

    private sealed record Assign(string Name, Expr Value) : Statement
    {
        public override IEnumerable<string> Names() => Value.Names();
    }

    private sealed record Print(List<Expr> Values) : Statement
    {
        public override IEnumerable<string> Names() => Values.SelectMany(v => v.Names());
    }

    private abstract record Expr
    {
        public abstract double Eval(Func<string, double> get);
        public abstract IEnumerable<string> Names();
    }

    private sealed record Number(double Value) : Expr
    {
        public override double Eval(Func<string, double> get) => Value;
        public override IEnumerable<string> Names() => [];
    }

    private sealed record Text(string Value) : Expr
    {
        public override double Eval(Func<string, double> get) => Value.Length; // only ever a message
        public override IEnumerable<string> Names() => [];
    }

    private sealed record Name(string Id) : Expr
    {
        public override double Eval(Func<string, double> get) => Id switch
        {
            "True" => 1,
            "False" => 0,
            _ => get(Id),
        };
        public override IEnumerable<string> Names() => Id is "True" or "False" ? [] : [Id];
    }

    private sealed record Unary(string Op, Expr Operand) : Expr
    {
        public override double Eval(Func<string, double> get) => Op switch
        {
            "-" => -Operand.Eval(get),
            "+" => Operand.Eval(get),
            _ => Operand.Eval(get) == 0 ? 1 : 0, // not
        };
        public override IEnumerable<string> Names() => Operand.Names();
    }

    private sealed record Binary(string Op, Expr Left, Expr Right) : Expr
    {
        public override double Eval(Func<string, double> get)
        {
            if (Op == "and") return Left.Eval(get) != 0 && Right.Eval(get) != 0 ? 1 : 0;
            if (Op == "or") return Left.Eval(get) != 0 || Right.Eval(get) != 0 ? 1 : 0;
            double a = Left.Eval(get), b = Right.Eval(get);
            return Op switch
            {
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                "/" => a / b,
                "//" => Math.Floor(a / b),
                "%" => a - b * Math.Floor(a / b),
                "**" => Math.Pow(a, b),
                _ => throw new InvalidOperationException(Op),
            };
        }
        public override IEnumerable<string> Names() => Left.Names().Concat(Right.Names());
    }

    /// <summary>Python's chained comparison: <c>a &lt;= b &lt;= c</c> is <c>a &lt;= b and b &lt;= c</c>.</summary>
    private sealed record Comparison(List<Expr> Operands, List<string> Ops) : Expr
    {
        public override double Eval(Func<string, double> get)
        {
            double left = Operands[0].Eval(get);
            for (int i = 0; i < Ops.Count; i++)
            {
                double right = Operands[i + 1].Eval(get);
                bool ok = Ops[i] switch
                {
                    "==" => left == right,
                    "!=" => left != right,
                    "<" => left < right,
                    "<=" => left <= right,
                    ">" => left > right,
                    _ => left >= right,
                };
                if (!ok) return 0;
                left = right;
            }
            return 1;
        }
        public override IEnumerable<string> Names() => Operands.SelectMany(o => o.Names());
    }

    private sealed class Parser(List<Token> tokens)
    {
        private const int MaxDepth = 100; // a block nesting deeper is refused, not allowed to exhaust the stack
        private int _i;
        private int _depth;

        public bool AtEnd => _i >= tokens.Count;
        public string PeekText => AtEnd ? "end of line" : tokens[_i].Text;

        private bool IsOp(string op) => !AtEnd && tokens[_i].Kind == TokenKind.Op && tokens[_i].Text == op;
        private bool IsWord(string w) => !AtEnd && tokens[_i].Kind == TokenKind.Name && tokens[_i].Text == w;

        private void Expect(string op)
        {
            if (!IsOp(op)) throw new FormatException($"expected '{op}' in Python, found '{PeekText}'");
            _i++;
        }

        public Statement Statement()
        {
            if (IsWord("assert"))
            {
                _i++;
                int start = _i;
                var condition = Or();
                string source = string.Join(" ", tokens.Skip(start).Take(_i - start).Select(t => t.Text));
                Expr? message = null;
                if (IsOp(","))
                {
                    _i++;
                    message = Or();
                }
                return new Assert(condition, message, source);
            }
            if (IsWord("print"))
            {
                _i++;
                Expect("(");
                var values = new List<Expr>();
                while (!IsOp(")"))
                {
                    values.Add(Or());
                    if (IsOp(",")) _i++;
                    else break;
                }
                Expect(")");
                return new Print(values);
            }
            if (!AtEnd && tokens[_i].Kind == TokenKind.Name && _i + 1 < tokens.Count && tokens[_i + 1] is { Kind: TokenKind.Op, Text: "=" })
            {
                string name = tokens[_i].Text;
                _i += 2;
                return new Assign(name, Or());
            }
            // cwnd += 1: an assignment of the name's own value and the operand.
            if (!AtEnd && tokens[_i].Kind == TokenKind.Name && _i + 1 < tokens.Count && tokens[_i + 1] is { Kind: TokenKind.Op, Text: "+=" or "-=" or "*=" } augmented)
            {
                string name = tokens[_i].Text;
                _i += 2;
                return new Assign(name, new Binary(augmented.Text[..1], new Name(name), Or()));
            }
            throw new UnsupportedScriptException($"Python statement other than assert, print or an assignment: '{string.Join(" ", tokens.Select(t => t.Text))}'");
        }

        private Expr Or()
        {
            var left = And();
            while (IsWord("or")) { _i++; left = new Binary("or", left, And()); }
            return left;
        }

        private Expr And()
        {
            var left = Not();
            while (IsWord("and")) { _i++; left = new Binary("and", left, Not()); }
            return left;
        }

        private Expr Not()
        {
            if (IsWord("not"))
            {
                if (++_depth > MaxDepth) throw new FormatException($"Python nested deeper than {MaxDepth}");
                _i++;
                var operand = Not();
                _depth--;
                return new Unary("not", operand);
            }
            return Compare();
        }

        private Expr Compare()
        {
            var first = Sum();
            var operands = new List<Expr> { first };
            var ops = new List<string>();
            while (!AtEnd && tokens[_i].Kind == TokenKind.Op && tokens[_i].Text is "==" or "!=" or "<" or "<=" or ">" or ">=")
            {
                ops.Add(tokens[_i++].Text);
                operands.Add(Sum());
            }
            return ops.Count == 0 ? first : new Comparison(operands, ops);
        }

        private Expr Sum()
        {
            var left = Product();
            while (IsOp("+") || IsOp("-"))
            {
                string op = tokens[_i++].Text;
                left = new Binary(op, left, Product());
            }
            return left;
        }

        private Expr Product()
        {
            var left = UnaryExpr();
            while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%"))
            {
                string op = tokens[_i++].Text;
                left = new Binary(op, left, UnaryExpr());
            }
            return left;
        }

        private Expr UnaryExpr()
        {
            if (IsOp("-") || IsOp("+"))
            {
                if (++_depth > MaxDepth) throw new FormatException($"Python nested deeper than {MaxDepth}");
                string op = tokens[_i++].Text;
                var operand = UnaryExpr();
                _depth--;
                return new Unary(op, operand);
            }
            var atom = Atom();
            if (!IsOp("**")) return atom;
            if (++_depth > MaxDepth) throw new FormatException($"Python nested deeper than {MaxDepth}");
            _i++;
            var power = new Binary("**", atom, UnaryExpr());
            _depth--;
            return power;
        }

        private Expr Atom()
        {
            if (AtEnd) throw new FormatException("Python expression ends too soon");
            var t = tokens[_i];
            switch (t.Kind)
            {
                case TokenKind.Number: _i++; return new Number(t.Value);
                case TokenKind.String: _i++; return new Text(t.Text);
                case TokenKind.Name:
                    _i++;
                    if (IsOp("(")) throw new UnsupportedScriptException($"Python function call {t.Text}()");
                    return new Name(t.Text);
                default:
                    if (t.Text == "(")
                    {
                        if (++_depth > MaxDepth) throw new FormatException($"Python nested deeper than {MaxDepth}");
                        _i++;
                        var inner = Or();
                        // A tuple, as in 'rtt: %d min_rtt: %d' % (tcpi_rtt, tcpi_min_rtt): only ever a message's
                        // arguments, so its value is its first member; every member is still read (and checked as a name).
                        var members = new List<Expr> { inner };
                        while (IsOp(","))
                        {
                            _i++;
                            if (IsOp(")")) break;
                            members.Add(Or());
                        }
                        Expect(")");
                        _depth--;
                        return members.Count == 1 ? inner : new Tuple(members);
                    }
                    throw new FormatException($"unexpected '{t.Text}' in Python");
            }
        }
    }
}
