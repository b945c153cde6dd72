using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace AkkaKv.Tests.Architecture;

/// <summary>
/// Which namespaces (folders) refer to which, read from compiled assemblies rather than from
/// <c>using</c> lines, which miss fully qualified names: for every type, every type named in its
/// base type, interfaces, field, method and property signatures, local variables, and every type
/// whose member its method bodies touch (calls, field access, casts, <c>typeof</c>). Nested and
/// compiler-generated types (closures, state machines) count for their outermost declaring type.
/// </summary>
internal static class TypeReferenceGraph
{
    private static readonly Dictionary<short, OperandType> Operands = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value, o => o.OperandType);

    /// <summary>Namespace → the namespaces it refers to (both starting with <paramref name="prefix"/>, self-edges left out).</summary>
    public static IReadOnlyDictionary<string, ImmutableSortedSet<string>> NamespaceEdges(IEnumerable<string> assemblyPaths, string prefix)
    {
        var edges = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var path in assemblyPaths)
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream);
            var md = pe.GetMetadataReader();
            foreach (var handle in md.TypeDefinitions)
            {
                var from = NamespaceOf(md, (EntityHandle)handle);
                if (!from.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var to = edges.TryGetValue(from, out var set) ? set : edges[from] = new HashSet<string>(StringComparer.Ordinal);
                foreach (var ns in ReferencedNamespaces(md, pe, handle))
                    if (ns != from && ns.StartsWith(prefix, StringComparison.Ordinal)) to.Add(ns);
            }
        }
        return edges.ToDictionary(kv => kv.Key, kv => kv.Value.ToImmutableSortedSet(StringComparer.Ordinal), StringComparer.Ordinal);
    }

    /// <summary>Pairs of namespaces that refer to each other, each pair once (A &lt; B).</summary>
    public static IReadOnlyList<(string A, string B)> TwoCycles(IReadOnlyDictionary<string, ImmutableSortedSet<string>> edges) =>
        edges.SelectMany(kv => kv.Value.Where(to => string.CompareOrdinal(kv.Key, to) < 0 && edges.TryGetValue(to, out var back) && back.Contains(kv.Key))
            .Select(to => (kv.Key, to))).OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.to, StringComparer.Ordinal).ToList();

    /// <summary>Strongly connected components of more than one namespace (Tarjan): every folder loop, however long.</summary>
    public static IReadOnlyList<ImmutableSortedSet<string>> Cycles(IReadOnlyDictionary<string, ImmutableSortedSet<string>> edges)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<ImmutableSortedSet<string>>();
        var next = 0;
        void Visit(string v)
        {
            index[v] = low[v] = next++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in edges.GetValueOrDefault(v) ?? [])
            {
                if (!index.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string x;
            do { x = stack.Pop(); onStack.Remove(x); component.Add(x); } while (x != v);
            if (component.Count > 1) result.Add(component.ToImmutableSortedSet(StringComparer.Ordinal));
        }
        foreach (var v in edges.Keys.Order(StringComparer.Ordinal)) if (!index.ContainsKey(v)) Visit(v);
        return result;
    }

    private static IEnumerable<string> ReferencedNamespaces(MetadataReader md, PEReader pe, TypeDefinitionHandle handle)
    {
        var type = md.GetTypeDefinition(handle);
        var provider = new NamespaceCollector(md);
        var found = new HashSet<string>(StringComparer.Ordinal);
        void Add(EntityHandle h) { if (!h.IsNil) found.UnionWith(provider.Of(h)); }
        Add(type.BaseType);
        foreach (var i in type.GetInterfaceImplementations()) Add(md.GetInterfaceImplementation(i).Interface);
        foreach (var f in type.GetFields()) found.UnionWith(md.GetFieldDefinition(f).DecodeSignature(provider, null));
        foreach (var p in type.GetProperties())
        {
            var sig = md.GetPropertyDefinition(p).DecodeSignature(provider, null);
            found.UnionWith(sig.ReturnType);
            foreach (var param in sig.ParameterTypes) found.UnionWith(param);
        }
        foreach (var m in type.GetMethods())
        {
            var method = md.GetMethodDefinition(m);
            var sig = method.DecodeSignature(provider, null);
            found.UnionWith(sig.ReturnType);
            foreach (var param in sig.ParameterTypes) found.UnionWith(param);
            if (method.RelativeVirtualAddress == 0) continue;
            var body = pe.GetMethodBody(method.RelativeVirtualAddress);
            if (!body.LocalSignature.IsNil)
                foreach (var local in md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(provider, null)) found.UnionWith(local);
            var il = body.GetILReader();
            while (il.RemainingBytes > 0)
            {
                short code = il.ReadByte();
                if (code == 0xFE) code = unchecked((short)(0xFE00 | il.ReadByte()));
                switch (Operands[code])
                {
                    case OperandType.InlineNone: break;
                    case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: il.Offset += 1; break;
                    case OperandType.InlineVar: il.Offset += 2; break;
                    case OperandType.InlineI8 or OperandType.InlineR: il.Offset += 8; break;
                    case OperandType.InlineSwitch:
                        // The count first: in "Offset += 4 * ReadInt32()" Offset would be read before the count is.
                        var targets = il.ReadInt32();
                        il.Offset += 4 * targets;
                        break;
                    case OperandType.InlineBrTarget or OperandType.InlineI or OperandType.ShortInlineR or OperandType.InlineString or OperandType.InlineSig: il.Offset += 4; break;
                    default: // InlineMethod, InlineField, InlineType, InlineTok
                        var handleOperand = MetadataTokens.EntityHandle(il.ReadInt32());
                        Add(handleOperand);
                        break;
                }
            }
        }
        foreach (var nested in type.GetNestedTypes()) found.UnionWith(ReferencedNamespaces(md, pe, nested));
        return found;
    }

    /// <summary>The namespace of a type definition or reference, through its outermost declaring type.</summary>
    private static string NamespaceOf(MetadataReader md, EntityHandle handle)
    {
        switch (handle.Kind)
        {
            case HandleKind.TypeDefinition:
            {
                var t = md.GetTypeDefinition((TypeDefinitionHandle)handle);
                var declaring = t.GetDeclaringType();
                return declaring.IsNil ? md.GetString(t.Namespace) : NamespaceOf(md, declaring);
            }
            case HandleKind.TypeReference:
            {
                var t = md.GetTypeReference((TypeReferenceHandle)handle);
                return t.ResolutionScope.Kind == HandleKind.TypeReference ? NamespaceOf(md, (EntityHandle)t.ResolutionScope) : md.GetString(t.Namespace);
            }
            default: return "";
        }
    }

    /// <summary>Decodes signatures into the namespaces of every type they name (generic arguments included).</summary>
    private sealed class NamespaceCollector(MetadataReader md) : ISignatureTypeProvider<ImmutableHashSet<string>, object?>
    {
        private static readonly ImmutableHashSet<string> None = ImmutableHashSet<string>.Empty;

        public ImmutableHashSet<string> Of(EntityHandle handle) => handle.Kind switch
        {
            HandleKind.TypeDefinition or HandleKind.TypeReference => ImmutableHashSet.Create(NamespaceOf(md, handle)),
            HandleKind.TypeSpecification => md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null),
            HandleKind.MemberReference => OfMemberReference((MemberReferenceHandle)handle),
            HandleKind.MethodDefinition => Of(md.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType()),
            HandleKind.FieldDefinition => Of(md.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType()),
            HandleKind.MethodSpecification => OfMethodSpec((MethodSpecificationHandle)handle),
            _ => None,
        };

        private ImmutableHashSet<string> OfMemberReference(MemberReferenceHandle handle)
        {
            var member = md.GetMemberReference(handle);
            var result = Of(member.Parent);
            if (member.GetKind() == MemberReferenceKind.Field) return result.Union(member.DecodeFieldSignature(this, null));
            var sig = member.DecodeMethodSignature(this, null);
            result = result.Union(sig.ReturnType);
            foreach (var p in sig.ParameterTypes) result = result.Union(p);
            return result;
        }

        private ImmutableHashSet<string> OfMethodSpec(MethodSpecificationHandle handle)
        {
            var spec = md.GetMethodSpecification(handle);
            var result = Of(spec.Method);
            foreach (var arg in spec.DecodeSignature(this, null)) result = result.Union(arg);
            return result;
        }

        public ImmutableHashSet<string> GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => Of(handle);
        public ImmutableHashSet<string> GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => Of(handle);
        public ImmutableHashSet<string> GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind) => Of(handle);
        public ImmutableHashSet<string> GetPrimitiveType(PrimitiveTypeCode typeCode) => None;
        public ImmutableHashSet<string> GetSZArrayType(ImmutableHashSet<string> elementType) => elementType;
        public ImmutableHashSet<string> GetArrayType(ImmutableHashSet<string> elementType, ArrayShape shape) => elementType;
        public ImmutableHashSet<string> GetByReferenceType(ImmutableHashSet<string> elementType) => elementType;
        public ImmutableHashSet<string> GetPointerType(ImmutableHashSet<string> elementType) => elementType;
        public ImmutableHashSet<string> GetPinnedType(ImmutableHashSet<string> elementType) => elementType;
        public ImmutableHashSet<string> GetGenericInstantiation(ImmutableHashSet<string> genericType, ImmutableArray<ImmutableHashSet<string>> typeArguments) =>
            typeArguments.Aggregate(genericType, (acc, t) => acc.Union(t));
        public ImmutableHashSet<string> GetGenericMethodParameter(object? context, int index) => None;
        public ImmutableHashSet<string> GetGenericTypeParameter(object? context, int index) => None;
        public ImmutableHashSet<string> GetFunctionPointerType(MethodSignature<ImmutableHashSet<string>> signature) =>
            signature.ParameterTypes.Aggregate(signature.ReturnType, (acc, t) => acc.Union(t));
        public ImmutableHashSet<string> GetModifiedType(ImmutableHashSet<string> modifier, ImmutableHashSet<string> unmodifiedType, bool isRequired) => unmodifiedType;
    }
}
