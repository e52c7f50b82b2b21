// Simple UART transmitter with a configurable baud divider.
`timescale 1ns / 1ps
`define DATA_BITS 8

module uart_tx #(
    parameter CLK_HZ = 50_000_000,
    parameter BAUD   = 115200
) (
    input  wire                  clk,
    input  wire                  rst_n,
    input  wire                  start,
    input  wire [`DATA_BITS-1:0] data_in,
    output reg                   tx,
    output wire                  busy
);

    localparam integer DIVIDER = CLK_HZ / BAUD;

    localparam [1:0] S_IDLE  = 2'b00,
                     S_START = 2'b01,
                     S_DATA  = 2'b10,
                     S_STOP  = 2'b11;

    reg [1:0]  state;
    reg [15:0] baud_cnt;
    reg [2:0]  bit_idx;
    reg [7:0]  shift_reg;

    wire tick = (baud_cnt == DIVIDER - 1);

    assign busy = (state != S_IDLE);

    // Baud rate counter
    always @(posedge clk or negedge rst_n) begin
        if (!rst_n)
            baud_cnt <= 16'd0;
        else if (state == S_IDLE || tick)
            baud_cnt <= 16'd0;
        else
            baud_cnt <= baud_cnt + 1'b1;
    end

    // Transmit state machine
    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            state     <= S_IDLE;
            tx        <= 1'b1;
            bit_idx   <= 3'd0;
            shift_reg <= 8'h00;
        end else begin
            case (state)
                S_IDLE: begin
                    tx <= 1'b1;
                    if (start) begin
                        shift_reg <= data_in;
                        state     <= S_START;
                    end
                end
                S_START: if (tick) begin
                    tx    <= 1'b0;
                    state <= S_DATA;
                end
                S_DATA: if (tick) begin
                    tx        <= shift_reg[0];
                    shift_reg <= {1'b0, shift_reg[7:1]};
                    bit_idx   <= bit_idx + 3'd1;
                    if (bit_idx == 3'd7)
                        state <= S_STOP;
                end
                S_STOP: if (tick) begin
                    tx    <= 1'b1;
                    state <= S_IDLE;
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    initial begin
        $display("uart_tx: divider = %0d", DIVIDER);
    end

endmodule
