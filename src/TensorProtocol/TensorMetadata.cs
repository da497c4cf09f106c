using System.Collections.Immutable;
using System.Text;

namespace TensorProtocol;

/// <summary>
/// What describes a tensor apart from its bytes: element type, shape, whether it requires gradients, and free-form
/// string metadata. Immutable; the constructor copies its inputs.
/// </summary>
public sealed class TensorMetadata : IEquatable<TensorMetadata>
{
    private static readonly ImmutableSortedDictionary<string, string> s_noMetadata =
        ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);

    private readonly ImmutableSortedDictionary<string, string> _metadata;

    /// <summary>Describes a tensor.</summary>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The dimensions, outermost first (C order); empty for a scalar. Each is 0 or more.</param>
    /// <param name="requiresGrad">Whether the tensor takes part in autograd on the receiving side.</param>
    /// <param name="metadata">Free-form string pairs carried with the tensor (copied); null for none.</param>
    /// <exception cref="ArgumentNullException"><paramref name="dtype"/> or a metadata value is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A dimension is negative, or the tensor would have more than <see cref="long.MaxValue"/> bytes.
    /// </exception>
    public TensorMetadata(DType dtype, ReadOnlySpan<long> shape, bool requiresGrad = false, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(dtype);
        switch (TryComputeSize(dtype, shape, out long elementCount, out long byteLength, out int negativeIndex))
        {
            case SizeResult.NegativeDimension:
                throw new ArgumentOutOfRangeException(nameof(shape),
                    $"Dimension {negativeIndex} of shape {FormatShape(shape)} is negative; every dimension must be 0 or more.");
            case SizeResult.Overflow:
                throw new ArgumentOutOfRangeException(nameof(shape),
                    $"A tensor of dtype {dtype} and shape {FormatShape(shape)} would have more than {long.MaxValue} bytes.");
        }
        DType = dtype;
        Shape = [.. shape];
        RequiresGrad = requiresGrad;
        ElementCount = elementCount;
        ByteLength = byteLength;
        _metadata = metadata is null or { Count: 0 } ? s_noMetadata : CopyMetadata(metadata);
    }

    // For the wire decoder, which has validated everything already.
    internal TensorMetadata(DType dtype, ImmutableArray<long> shape, bool requiresGrad, ImmutableSortedDictionary<string, string>? metadata, long elementCount, long byteLength)
    {
        DType = dtype;
        Shape = shape;
        RequiresGrad = requiresGrad;
        ElementCount = elementCount;
        ByteLength = byteLength;
        _metadata = metadata ?? s_noMetadata;
    }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>The dimensions, outermost first (C order); empty for a scalar.</summary>
    public ImmutableArray<long> Shape { get; }

    /// <summary>The number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>Whether the tensor takes part in autograd on the receiving side.</summary>
    public bool RequiresGrad { get; }

    /// <summary>Free-form string metadata, sorted by key (ordinal); empty when there is none.</summary>
    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    /// <summary>The number of elements: the product of the dimensions (1 for a scalar, 0 if any dimension is 0).</summary>
    public long ElementCount { get; }

    /// <summary>The size of the payload in bytes: <see cref="ElementCount"/> × <see cref="DType.ElementSize"/>.</summary>
    public long ByteLength { get; }

    internal ImmutableSortedDictionary<string, string> SortedMetadata => _metadata;

    /// <summary>A short description such as <c>F32[2, 3]</c>.</summary>
    public override string ToString() => $"{DType}{FormatShape(Shape.AsSpan())}{(RequiresGrad ? " requires_grad" : "")}";

    /// <inheritdoc/>
    public bool Equals(TensorMetadata? other) =>
        other is not null &&
        (ReferenceEquals(this, other) ||
         (DType == other.DType &&
          RequiresGrad == other.RequiresGrad &&
          Shape.AsSpan().SequenceEqual(other.Shape.AsSpan()) &&
          _metadata.Count == other._metadata.Count &&
          _metadata.All(pair => other._metadata.TryGetValue(pair.Key, out string? value) && value == pair.Value)));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as TensorMetadata);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(DType);
        hash.Add(RequiresGrad);
        foreach (long dimension in Shape)
        {
            hash.Add(dimension);
        }
        hash.Add(_metadata.Count);
        return hash.ToHashCode();
    }

    internal enum SizeResult
    {
        Valid,
        NegativeDimension,
        Overflow,
    }

    /// <summary>Computes element count and byte length with checked arithmetic; shared with the wire decoder.</summary>
    internal static SizeResult TryComputeSize(DType dtype, ReadOnlySpan<long> shape, out long elementCount, out long byteLength, out int negativeIndex)
    {
        elementCount = 0;
        byteLength = 0;
        negativeIndex = shape.IndexOfAnyInRange(long.MinValue, -1);
        if (negativeIndex >= 0)
        {
            return SizeResult.NegativeDimension;
        }
        // A zero dimension makes the tensor empty however large the others are; multiplying first could overflow
        // on a shape like [2^40, 2^40, 0] that describes zero bytes.
        if (shape.Contains(0))
        {
            return SizeResult.Valid;
        }
        long count = 1;
        foreach (long dimension in shape)
        {
            if (count > long.MaxValue / dimension)
            {
                return SizeResult.Overflow;
            }
            count *= dimension;
        }
        if (count > long.MaxValue / dtype.ElementSize)
        {
            return SizeResult.Overflow;
        }
        elementCount = count;
        byteLength = count * dtype.ElementSize;
        return SizeResult.Valid;
    }

    internal static string FormatShape(ReadOnlySpan<long> shape)
    {
        var text = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            text.Append(i == 0 ? "" : ", ").Append(shape[i]);
        }
        return text.Append(']').ToString();
    }

    private static ImmutableSortedDictionary<string, string> CopyMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        ImmutableSortedDictionary<string, string>.Builder builder = s_noMetadata.ToBuilder();
        foreach ((string key, string value) in metadata)
        {
            ArgumentNullException.ThrowIfNull(key, nameof(metadata));
            if (value is null)
            {
                throw new ArgumentNullException(nameof(metadata), $"The value of metadata key '{key}' is null.");
            }
            // The source dictionary may compare keys differently (ignoring case, say): two of its keys can be one here.
            if (!builder.TryAdd(key, value))
            {
                throw new ArgumentException($"Metadata key '{key}' appears twice.", nameof(metadata));
            }
        }
        return builder.ToImmutable();
    }
}
