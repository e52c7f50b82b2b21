-- UART transmitter with configurable baud rate divisor.
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;

entity uart_tx is
  generic (
    CLK_FREQ  : integer := 50_000_000;
    BAUD_RATE : integer := 115200
  );
  port (
    clk      : in  std_logic;
    rst_n    : in  std_logic;
    tx_start : in  std_logic;
    tx_data  : in  std_logic_vector(7 downto 0);
    tx_busy  : out std_logic;
    tx_line  : out std_logic
  );
end entity uart_tx;

architecture rtl of uart_tx is
  constant DIVISOR : integer := CLK_FREQ / BAUD_RATE;

  type state_t is (IDLE, START_BIT, DATA_BITS, STOP_BIT);
  signal state     : state_t := IDLE;
  signal baud_cnt  : unsigned(15 downto 0) := (others => '0');
  signal bit_index : integer range 0 to 7 := 0;
  signal shift_reg : std_logic_vector(7 downto 0) := x"00";
begin

  tx_busy <= '0' when state = IDLE else '1';

  transmit : process (clk, rst_n)
  begin
    if rst_n = '0' then
      state     <= IDLE;
      baud_cnt  <= (others => '0');
      bit_index <= 0;
      tx_line   <= '1';
    elsif rising_edge(clk) then
      case state is
        when IDLE =>
          tx_line <= '1';
          if tx_start = '1' then
            shift_reg <= tx_data;
            baud_cnt  <= (others => '0');
            state     <= START_BIT;
          end if;

        when START_BIT =>
          tx_line <= '0';
          if baud_cnt = DIVISOR - 1 then
            baud_cnt <= (others => '0');
            state    <= DATA_BITS;
          else
            baud_cnt <= baud_cnt + 1;
          end if;

        when DATA_BITS =>
          tx_line <= shift_reg(bit_index);
          if baud_cnt = DIVISOR - 1 then
            baud_cnt <= (others => '0');
            if bit_index = 7 then
              bit_index <= 0;
              state     <= STOP_BIT;
            else
              bit_index <= bit_index + 1;
            end if;
          else
            baud_cnt <= baud_cnt + 1;
          end if;

        when STOP_BIT =>
          tx_line <= '1';
          if baud_cnt = DIVISOR - 1 then
            state <= IDLE;
          else
            baud_cnt <= baud_cnt + 1;
          end if;

        when others =>
          state <= IDLE;
      end case;
    end if;
  end process transmit;

end architecture rtl;
