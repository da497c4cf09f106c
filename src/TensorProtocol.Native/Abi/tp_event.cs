namespace TensorProtocol.Native.Abi;

/// <summary>Mirror of <c>tp_event</c>: one outcome taken from a completion queue.</summary>
internal unsafe struct tp_event
{
    public ulong user_data;
    public int kind;
    public int status;
    public nint tensor;
    public byte* error;
}
