// Parameterised synchronous FIFO with a small testbench.
`timescale 1ns/1ps

package fifo_pkg;
  typedef enum logic [1:0] {IDLE, WRITE, READ, FULL} state_t;
  parameter int DEFAULT_DEPTH = 16;
endpackage

module sync_fifo #(
  parameter int WIDTH = 8,
  parameter int DEPTH = 16
) (
  input  logic             clk,
  input  logic             rst_n,
  input  logic             wr_en,
  input  logic             rd_en,
  input  logic [WIDTH-1:0] din,
  output logic [WIDTH-1:0] dout,
  output logic             full,
  output logic             empty
);
  localparam int AW = $clog2(DEPTH);

  logic [WIDTH-1:0] mem [DEPTH];
  logic [AW:0] wr_ptr, rd_ptr;

  assign full  = (wr_ptr[AW] != rd_ptr[AW]) && (wr_ptr[AW-1:0] == rd_ptr[AW-1:0]);
  assign empty = (wr_ptr == rd_ptr);

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      wr_ptr <= '0;
      rd_ptr <= '0;
    end else begin
      if (wr_en && !full) begin
        mem[wr_ptr[AW-1:0]] <= din;
        wr_ptr <= wr_ptr + 1'b1;
      end
      if (rd_en && !empty) begin
        rd_ptr <= rd_ptr + 1'b1;
      end
    end
  end

  assign dout = mem[rd_ptr[AW-1:0]];
endmodule

module tb_sync_fifo;
  import fifo_pkg::*;

  logic clk = 0;
  logic rst_n;
  logic wr_en, rd_en;
  logic [7:0] din, dout;
  logic full, empty;
  state_t state;

  sync_fifo #(.WIDTH(8), .DEPTH(4)) dut (.*);

  always #5 clk = ~clk;

  initial begin
    rst_n = 0;
    wr_en = 0;
    rd_en = 0;
    din = 8'h00;
    state = IDLE;
    repeat (2) @(posedge clk);
    rst_n = 1;

    for (int i = 0; i < 4; i++) begin
      @(posedge clk);
      wr_en = 1;
      din = 8'hA0 + i;
    end
    @(posedge clk) wr_en = 0;

    case (full)
      1'b1: $display("FIFO full as expected");
      default: $error("FIFO should be full");
    endcase

    while (!empty) begin
      @(posedge clk);
      rd_en = 1;
      $display("read %h at %0t", dout, $time);
    end
    rd_en = 0;
    $finish;
  end
endmodule
